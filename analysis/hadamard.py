"""R's ``survey::hadamard()``: the Hadamard matrix R picks for a given number of strata.

BRR and Fay replicate weights depend on *which* Hadamard matrix is used, so to reproduce R's
replicates we must build exactly R's matrix: the same precomputed matrices (orders 4, 16, 28
and 36, copied from ``survey:::hadamard.list``), the same Paley construction
(``survey:::paley``, quadratic residues modulo a prime p = 3 mod 4) and the same doubling
(``survey:::hadamard.doubler``, Sylvester), chosen by the same size rule.  Entries are 0/1 as
in R (1 = +1, 0 = -1).

References
----------
Wolter, K. M. (2007). *Introduction to Variance Estimation*, 2nd ed., ch. 3 (balanced
half-samples). Springer.
Lumley, T. (2010). *Complex Surveys*, §2.3. Wiley.
Paley, R. E. A. C. (1933). On orthogonal matrices. *J. Math. Phys.* 12, 311-320.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["hadamard", "is_hadamard", "paley"]

# survey:::hadamard.list[[1]] and [[2]] are Sylvester matrices; [[3]] (28) and [[4]] (36)
# are tabulated in R and copied here verbatim.
_H28 = (
    "1111111111111111111111111111",
    "1001110001110001110001111000",
    "1000001111001101001101111000",
    "1000001110110010111001100110",
    "1001101000001111100011010110",
    "1001010100101100010110101110",
    "1000110011010010001110011110",
    "0101100010101010011111110000",
    "0100010110110101100111010100",
    "0100011011001011110010101100",
    "0101011000010111011101001010",
    "0100101101100100111010011010",
    "0101100101011001101100100110",
    "0010110100011110101011101000",
    "0011011001100110101100110100",
    "0010101100111011010100011100",
    "0011000111010111010010110010",
    "0011001011111000100111001010",
    "0010110011101101011001000110",
    "1110101001010100010111100100",
    "1111000101100011001011001100",
    "1111000010011100111000011100",
    "1110010101001010110101010010",
    "1110011000111001001010110010",
    "1110100010100111100100101010",
    "1101111111111110000000000000",
    "1011111110000001111110000000",
    "0111111110000000000001111110",
)
_H36 = (
    "111111111111111111111111111111111111",
    "010111000111110111001000010101100100",
    "101110001111101110010000101011001000",
    "011100011111011100100001010110010010",
    "111000111110111001000010101100100100",
    "110001111101110010000101011001001010",
    "100011111011100100001010110010010110",
    "000111110111001000010101100100101110",
    "001111101110010000101011001001011100",
    "011111011100100001010110010010111000",
    "111110111001000010101100100101110000",
    "111101110010000101011001001011100010",
    "111011100100001010110010010111000110",
    "110111001000010101100100101110001110",
    "101110010000101011001001011100011110",
    "011100100001010110010010111000111110",
    "111001000010101100100101110001111100",
    "110010000101011001001011100011111010",
    "100100001010110010010111000111110110",
    "001000010101100100101110001111101110",
    "010000101011001001011100011111011100",
    "100001010110010010111000111110111000",
    "000010101100100101110001111101110010",
    "000101011001001011100011111011100100",
    "001010110010010111000111110111001000",
    "010101100100101110001111101110010000",
    "101011001001011100011111011100100000",
    "010110010010111000111110111001000010",
    "101100100101110001111101110010000100",
    "011001001011100011111011100100001010",
    "110010010111000111110111001000010100",
    "100100101110001111101110010000101010",
    "001001011100011111011100100001010110",
    "010010111000111110111001000010101100",
    "100101110001111101110010000101011000",
    "001011100011111011100100001010110010",
)
_SIZES = (4, 16, 28, 36)

# survey:::paley's table of small primes (all p = 3 mod 4 up to 7919).
_SMALL_PRIMES = (
    3, 7, 11, 19, 23, 31, 43, 47, 59, 67, 71, 79, 83, 103, 107, 127, 131, 139, 151, 163,
    167, 179, 191, 199, 211, 223, 227, 239, 251, 263, 271, 283, 307, 311, 331, 347, 359,
    367, 379, 383, 419, 431, 439, 443, 463, 467, 479, 487, 491, 499, 503, 523, 547, 563,
    571, 587, 599, 607, 619, 631, 643, 647, 659, 683, 691, 719, 727, 739, 743, 751, 787,
    811, 823, 827, 839, 859, 863, 883, 887, 907, 911, 919, 947, 967, 971, 983, 991, 1019,
    1031, 1039, 1051, 1063, 1087, 1091, 1103, 1123, 1151, 1163, 1171, 1187, 1223, 1231,
    1259, 1279, 1283, 1291, 1303, 1307, 1319, 1327, 1367, 1399, 1423, 1427, 1439, 1447,
    1451, 1459, 1471, 1483, 1487, 1499, 1511, 1523, 1531, 1543, 1559, 1567, 1571, 1579,
    1583, 1607, 1619, 1627, 1663, 1667, 1699, 1723, 1747, 1759, 1783, 1787, 1811, 1823,
    1831, 1847, 1867, 1871, 1879, 1907, 1931, 1951, 1979, 1987, 1999, 2003, 2011, 2027,
    2039, 2063, 2083, 2087, 2099, 2111, 2131, 2143, 2179, 2203, 2207, 2239, 2243, 2251,
    2267, 2287, 2311, 2339, 2347, 2351, 2371, 2383, 2399, 2411, 2423, 2447, 2459, 2467,
    2503, 2531, 2539, 2543, 2551, 2579, 2591, 2647, 2659, 2663, 2671, 2683, 2687, 2699,
    2707, 2711, 2719, 2731, 2767, 2791, 2803, 2819, 2843, 2851, 2879, 2887, 2903, 2927,
    2939, 2963, 2971, 2999, 3011, 3019, 3023, 3067, 3079, 3083, 3119, 3163, 3167, 3187,
    3191, 3203, 3251, 3259, 3271, 3299, 3307, 3319, 3323, 3331, 3343, 3347, 3359, 3371,
    3391, 3407, 3463, 3467, 3491, 3499, 3511, 3527, 3539, 3547, 3559, 3571, 3583, 3607,
    3623, 3631, 3643, 3659, 3671, 3691, 3719, 3727, 3739, 3767, 3779, 3803, 3823, 3847,
    3851, 3863, 3907, 3911, 3919, 3923, 3931, 3943, 3947, 3967, 4003, 4007, 4019, 4027,
    4051, 4079, 4091, 4099, 4111, 4127, 4139, 4159, 4211, 4219, 4231, 4243, 4259, 4271,
    4283, 4327, 4339, 4363, 4391, 4423, 4447, 4451, 4463, 4483, 4507, 4519, 4523, 4547,
    4567, 4583, 4591, 4603, 4639, 4643, 4651, 4663, 4679, 4691, 4703, 4723, 4751, 4759,
    4783, 4787, 4799, 4831, 4871, 4903, 4919, 4931, 4943, 4951, 4967, 4987, 4999, 5003,
    5011, 5023, 5039, 5051, 5059, 5087, 5099, 5107, 5119, 5147, 5167, 5171, 5179, 5227,
    5231, 5279, 5303, 5323, 5347, 5351, 5387, 5399, 5407, 5419, 5431, 5443, 5471, 5479,
    5483, 5503, 5507, 5519, 5527, 5531, 5563, 5591, 5623, 5639, 5647, 5651, 5659, 5683,
    5711, 5743, 5779, 5783, 5791, 5807, 5827, 5839, 5843, 5851, 5867, 5879, 5903, 5923,
    5927, 5939, 5987, 6007, 6011, 6043, 6047, 6067, 6079, 6091, 6131, 6143, 6151, 6163,
    6199, 6203, 6211, 6247, 6263, 6271, 6287, 6299, 6311, 6323, 6343, 6359, 6367, 6379,
    6427, 6451, 6491, 6547, 6551, 6563, 6571, 6599, 6607, 6619, 6659, 6679, 6691, 6703,
    6719, 6763, 6779, 6791, 6803, 6823, 6827, 6863, 6871, 6883, 6899, 6907, 6911, 6947,
    6959, 6967, 6971, 6983, 6991, 7019, 7027, 7039, 7043, 7079, 7103, 7127, 7151, 7159,
    7187, 7207, 7211, 7219, 7243, 7247, 7283, 7307, 7331, 7351, 7411, 7451, 7459, 7487,
    7499, 7507, 7523, 7547, 7559, 7583, 7591, 7603, 7607, 7639, 7643, 7687, 7691, 7699,
    7703, 7723, 7727, 7759, 7823, 7867, 7879, 7883, 7907, 7919,
)
_PRIME_SET = frozenset(_SMALL_PRIMES)


def _from_rows(rows: tuple[str, ...]) -> np.ndarray:
    return np.array([[int(c) for c in r] for r in rows], dtype=np.int8)


def _doubler(h: np.ndarray) -> np.ndarray:
    # survey:::hadamard.doubler: rbind(cbind(H, H), cbind(H, 1 - H))
    return np.block([[h, h], [h, 1 - h]])


def _sylvester(order: int) -> np.ndarray:
    h = np.ones((1, 1), dtype=np.int8)
    while h.shape[0] < order:
        h = _doubler(h)
    return h


_PRECOOKED = (_sylvester(4), _sylvester(16), _from_rows(_H28), _from_rows(_H36))


def _paley_prime(p: int) -> np.ndarray:
    """Paley construction of order p + 1 from the quadratic residues mod p (R's code path)."""
    idx = np.arange(p)
    m = (idx[:, None] + idx[None, :]) % p
    # R: res <- c(0, 1, (2:floor((p-1)/2))^2 %% p) -- for p = 3 the loop runs over 2:1,
    # which only repeats residue 1, so the set is the same.
    half = (p - 1) // 2
    residues = {0, 1}
    for i in range(2, half + 1):
        residues.add((i * i) % p)
    if p == 3:
        residues.add(1)
    mm = np.where(np.isin(m, sorted(residues)), 0, 1).astype(np.int8)
    top = np.ones((1, p), dtype=np.int8)
    body = np.vstack([top, mm])
    return np.hstack([np.ones((p + 1, 1), dtype=np.int8), body])


def paley(n: int, nmax: int | None = None) -> np.ndarray | None:
    """``survey:::paley(n, nmax)``: a Paley-type Hadamard matrix of order > n, or None.

    Follows R's search exactly: a power-of-two multiple of a Paley matrix when n mod 8 is 4..7
    and the reduced order minus one is a tabulated prime, else the smallest tabulated prime
    p >= n (retrying from ``nceil + 3`` when that prime overshoots), None when above ``nmax``.
    """
    if nmax is None:
        nmax = 2 * n
    nceil = nn = n + 4 - (n % 4)
    if (n % 4) + 4 == (n % 8):
        while nn % 8 == 0:
            nn //= 2
        if (nn - 1) in _PRIME_SET:
            m = _paley_prime(nn - 1)
            while nn < nceil:
                m = _doubler(m)
                nn *= 2
            return m
    if n > _SMALL_PRIMES[-1]:
        return None
    p = min(q for q in _SMALL_PRIMES if q >= n)
    if (p + 1 > nceil + 4) and (nceil + 4 < nmax):
        return paley(nceil + 3)
    if p > nmax:
        return None
    return _paley_prime(p)


def hadamard(n: int) -> np.ndarray:
    """The 0/1 Hadamard matrix ``survey::hadamard(n)`` returns: order > n, R's choice.

    Parameters
    ----------
    n : int
        Number of strata (half-sample pairs); the matrix has at least n + 1 rows so that row
        1 (all ones) can be skipped, as ``brrweights`` does.

    Returns
    -------
    ndarray of int8, shape (m, m)
        Entries 0/1.  The same matrix as R for every n (checked against R in the tests).
    """
    n = int(n)
    if n < 0:
        raise ValueError("hadamard() needs a non-negative size")
    m = n - (n % 4)
    sizes = np.array(_SIZES)
    precooked = [i for i, s in enumerate(_SIZES) if m < s <= m + 4]
    if precooked:
        return _PRECOOKED[min(precooked)].copy()
    if all(m < s for s in _SIZES):
        return _PRECOOKED[0].copy()
    # R: sizes * 2^pmax(0, ceiling(log((n + 1)/sizes, 2))); log(, 2) is C's log2.
    expo = np.maximum(0, np.ceil(np.log2((n + 1) / sizes)))
    doubled = sizes * 2.0**expo
    best = int(np.argmin(doubled - n))
    h = None
    if doubled[best] - n > 4:
        h = paley(n, int(doubled[best]))
    if h is None:
        ndoubles = int(math.ceil(math.log2(doubled[best] / sizes[best])))
        h = _PRECOOKED[best]
        for _ in range(ndoubles):
            h = _doubler(h)
    return h.copy()


def is_hadamard(h: np.ndarray) -> bool:
    """Whether a 0/1 matrix is Hadamard (its ±1 version H satisfies H Hᵀ = m I)."""
    s = 2 * np.asarray(h, dtype=np.int64) - 1
    m = s.shape[0]
    return s.shape == (m, m) and np.array_equal(s @ s.T, m * np.eye(m, dtype=np.int64))
