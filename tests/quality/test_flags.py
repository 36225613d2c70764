"""The pure quality-control flag functions (no app, no database)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from surveyapp.quality import flags as qc

KEY = b"test-key"


def test_duration_prefers_the_device_measure_and_falls_back_to_the_clock():
    start = datetime(2024, 9, 2, 8, 30, tzinfo=UTC)
    assert qc.duration_seconds({"duration_s": 910}, start, start + timedelta(minutes=20)) == 910
    assert qc.duration_seconds({"duration_s": "910"}, start, start + timedelta(minutes=2)) == 120
    assert qc.duration_seconds({}, start, start + timedelta(minutes=2)) == 120
    assert qc.duration_seconds({"duration_s": True}, None, None) is None
    assert qc.duration_seconds(None, None, None) is None


def test_short_threshold_setting_or_half_the_median():
    assert qc.short_threshold([600] * 10, setting=300) == 300
    # durations 100..900 (9 values): median 500, × 0.5 → 250
    assert qc.short_threshold(range(100, 1000, 100)) == 250
    assert qc.short_threshold([600, 600, 600, None]) is None  # too few to judge
    assert qc.short_threshold([600] * 5, setting="abc") == 300  # a bad setting is ignored
    assert qc.too_short(100, 250) and not qc.too_short(300, 250)
    assert not qc.too_short(None, 250) and not qc.too_short(100, None)


def test_likert_blocks_are_the_likert_questions_of_each_group():
    doc = {"children": [
        {"type": "likert", "name": "top1"},
        {"type": "group", "name": "g1", "children": [
            {"type": "likert", "name": "a"}, {"type": "integer", "name": "age"},
            {"type": "likert", "name": "b"},
            {"type": "group", "name": "g2", "children": [{"type": "likert", "name": "c"}]}]}]}
    assert qc.likert_blocks(doc) == [["top1"], ["a", "b"], ["c"]]


def test_straight_lining_needs_k_answered_identical_points():
    blocks = [["a", "b", "c", "d", "e"], ["x", "y"]]
    same = {"a": "4", "b": "4", "c": "4", "d": "4", "e": "4"}
    assert qc.straight_lined(same, blocks, 5) == [0]
    assert qc.straight_lined({**same, "e": "5"}, blocks, 5) == []
    # dk/na are not points: four answered items are fewer than k = 5
    assert qc.straight_lined({**same, "e": "dk"}, blocks, 5) == []
    assert qc.straight_lined({**same, "e": "dk"}, blocks, 4) == [0]
    assert qc.straight_lined({"x": "1", "y": "1"}, blocks, 5) == []


def test_respondent_key_normalises_phone_and_name_address():
    k1 = qc.respondent_key({"phone": "0909 123 456"}, KEY)
    assert k1 == qc.respondent_key({"phone": "+84 909-123-456"}, KEY)
    assert k1 != qc.respondent_key({"phone": "0909 123 457"}, KEY)
    # a number cell dropped the national 0 (and may be a float): the same phone
    assert k1 == qc.respondent_key({"phone": 909123456}, KEY)
    assert k1 == qc.respondent_key({"phone": 909123456.0}, KEY)
    assert qc.normalise_phone("2838291234") == "02838291234"  # a landline, 02x area code
    assert qc.normalise_phone("12345678") == "12345678"  # not a national number: as it is
    assert qc.normalise_phone("3838291234") == "3838291234"
    assert k1 != qc.respondent_key({"phone": "0909 123 456"}, b"another key")
    assert len(k1) == 64 and "0909" not in k1
    k2 = qc.respondent_key({"name": "Phạm Thị  Dung", "address": "12 Lê Lợi, Q.1"}, KEY)
    assert k2 == qc.respondent_key({"name": "pham thi dung", "address": "12 le loi q 1"}, KEY)
    assert qc.respondent_key({"name": "Dung"}, KEY) is None  # no address: nothing to compare
    assert qc.respondent_key({}, KEY) is None and qc.respondent_key(None, KEY) is None
    assert qc.respondent_key({"phone": "0909123456"}, b"") is None


def test_duplicate_groups():
    assert qc.duplicate_groups({1: "h", 2: "h", 3: "g", 4: None, 5: "h"}) == {
        1: [2, 5], 2: [1, 5], 5: [1, 2]}
