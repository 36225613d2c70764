"""The standard citizen-satisfaction questionnaire (Vietnamese and English).

Built from ../shared/docs/domain.md §2–§3:
* the five SIPAS factors (QĐ 2640/QĐ-BNV, QĐ 1001/QĐ-BNV), each with factual items
  (nhận định, agreement scale), a satisfaction item on the 5-level scale and an
  expectation item (sự mong đợi: what to improve first);
* the citizen-collectable indicators of Circular 01/2018/TT-VPCP Art. 13 (1: result
  early/on time/late, 3: contacts to complete the dossier, 4: agencies contacted,
  7: attitude and harassment), each answer carrying its 2/1/0 points as choice metadata
  ``{"tt01_points": n}`` and four calculated fields with the points per indicator;
* the items of Decree 61/2018/NĐ-CP Art. 31 (d, e, g, h);
* the agency, procedure, channel and dates; the respondent profile; overall satisfaction.
Question metadata tags each item (``sipas_factor``, ``content``, ``tt01_indicator``,
``nd61_item``) so that indices can be computed from the tags, not from names.
The wording of no national form is official (each province designs its own, Circular 01
Art. 12(4)); analysts adapt this template per campaign.
"""

from __future__ import annotations

from .model import Choice, ChoiceList, Group, Question, Questionnaire

ONLINE = "${kenh} = 'truc_tuyen_toan_trinh' or ${kenh} = 'truc_tuyen_mot_phan'"
VISITED_DESK = "${kenh} = 'truc_tiep' or ${kenh} = 'truc_tuyen_mot_phan'"


def _t(vi: str, en: str) -> dict:
    return {"vi": vi, "en": en}


def _list(name: str, *choices: tuple) -> ChoiceList:
    out = []
    for code, vi, en, *meta in choices:
        out.append(Choice(code, _t(vi, en), meta[0] if meta else {}))
    return ChoiceList(name, out)


def _choice_lists() -> list[ChoiceList]:
    return [
        _list("muc_hai_long",
              ("1", "Rất không hài lòng", "Very dissatisfied"),
              ("2", "Không hài lòng", "Dissatisfied"),
              ("3", "Bình thường", "Neutral"),
              ("4", "Hài lòng", "Satisfied"),
              ("5", "Rất hài lòng", "Very satisfied")),
        _list("muc_dong_y",
              ("1", "Hoàn toàn không đồng ý", "Strongly disagree"),
              ("2", "Không đồng ý", "Disagree"),
              ("3", "Phân vân", "Neither agree nor disagree"),
              ("4", "Đồng ý", "Agree"),
              ("5", "Hoàn toàn đồng ý", "Strongly agree")),
        _list("co_khong", ("co", "Có", "Yes"), ("khong", "Không", "No")),
        _list("kenh",
              ("truc_tiep", "Trực tiếp tại Bộ phận Một cửa",
               "In person at the one-stop desk"),
              ("truc_tuyen_toan_trinh", "Dịch vụ công trực tuyến toàn trình",
               "Online public service, fully online"),
              ("truc_tuyen_mot_phan", "Dịch vụ công trực tuyến một phần",
               "Online public service, partly online"),
              ("buu_chinh", "Qua dịch vụ bưu chính công ích", "Through the public postal service")),
        _list("tt01_tra_ket_qua",
              ("som_hen", "Sớm hơn ngày hẹn", "Earlier than the appointment date",
               {"tt01_points": 2}),
              ("dung_hen", "Đúng ngày hẹn", "On the appointment date", {"tt01_points": 1}),
              ("tre_hen", "Trễ hơn ngày hẹn", "Later than the appointment date",
               {"tt01_points": 0})),
        _list("tt01_so_lan",
              ("khong_lan_nao", "Không phải liên hệ thêm lần nào",
               "No additional contact was needed", {"tt01_points": 2}),
              ("mot_lan", "1 lần", "Once", {"tt01_points": 1}),
              ("hai_lan_tro_len", "Từ 2 lần trở lên", "Twice or more", {"tt01_points": 0})),
        _list("tt01_so_co_quan",
              ("khong_co_quan_nao", "Không phải liên hệ cơ quan, đơn vị nào (thực hiện "
               "trực tuyến hoặc qua bưu chính)",
               "No agency or unit had to be contacted (done online or by post)",
               {"tt01_points": 2}),
              ("chi_mot_cua", "Chỉ liên hệ Bộ phận Một cửa", "Only the one-stop desk",
               {"tt01_points": 1}),
              ("nhieu_co_quan", "Phải liên hệ nhiều hơn một cơ quan, đơn vị",
               "More than one agency or unit", {"tt01_points": 0})),
        _list("thong_tin_cong_khai",
              ("day_du", "Chính xác, đầy đủ và kịp thời", "Accurate, complete and up to date"),
              ("chua_day_du", "Có thông tin chưa chính xác, chưa đầy đủ hoặc chưa kịp thời",
               "Some information was inaccurate, incomplete or out of date"),
              ("khong_tim_thay", "Không tìm thấy thông tin", "Could not find the information")),
        _list("loi_dvctt",
              ("dang_nhap", "Khó đăng nhập, xác thực tài khoản",
               "Difficult to log in or verify the account"),
              ("cham_loi", "Hệ thống chậm hoặc bị lỗi", "The system was slow or failed"),
              ("kho_su_dung", "Biểu mẫu khó hiểu, khó sử dụng",
               "Forms were hard to understand or use"),
              ("thanh_toan", "Khó thanh toán trực tuyến", "Online payment was difficult"),
              ("khong_co_van_de", "Không gặp vấn đề gì", "No problem at all")),
        _list("md_tiep_can",
              ("co_so_vat_chat", "Cơ sở vật chất nơi tiếp nhận hồ sơ",
               "The premises where dossiers are received"),
              ("trang_thiet_bi", "Trang thiết bị phục vụ người dân",
               "Equipment for citizens"),
              ("cong_dvc", "Cổng dịch vụ công trực tuyến", "The online public service portal"),
              ("thong_tin_huong_dan", "Thông tin hướng dẫn, chỉ dẫn",
               "Guidance and signposting"),
              ("khac", "Khác", "Other")),
        _list("md_thu_tuc",
              ("don_gian_ho_so", "Đơn giản hóa thành phần hồ sơ",
               "Simplify the required documents"),
              ("rut_ngan_thoi_han", "Rút ngắn thời hạn giải quyết",
               "Shorten the processing time"),
              ("giam_phi", "Giảm phí, lệ phí", "Lower the fees and charges"),
              ("cong_khai_ro", "Công khai thủ tục rõ ràng, dễ hiểu hơn",
               "Publish the procedure more clearly"),
              ("khac", "Khác", "Other")),
        _list("md_cong_chuc",
              ("thai_do", "Thái độ giao tiếp, phục vụ", "Manner and attitude"),
              ("huong_dan", "Hướng dẫn rõ ràng, đầy đủ hơn", "Clearer, more complete guidance"),
              ("nang_luc", "Năng lực chuyên môn", "Professional competence"),
              ("tuan_thu", "Tuân thủ quy định, không gây phiền hà",
               "Following the rules, causing no trouble"),
              ("khac", "Khác", "Other")),
        _list("md_ket_qua",
              ("dung_hen", "Trả kết quả đúng hẹn", "Return results on time"),
              ("chinh_xac", "Kết quả chính xác, đúng quy định", "Accurate, lawful results"),
              ("tra_tai_nha", "Trả kết quả tận nhà qua bưu chính",
               "Deliver results to the home by post"),
              ("ket_qua_dien_tu", "Cấp kết quả điện tử", "Issue electronic results"),
              ("khac", "Khác", "Other")),
        _list("md_gop_y",
              ("de_gop_y", "Hình thức góp ý thuận tiện hơn", "Easier ways to give feedback"),
              ("tra_loi_nhanh", "Trả lời góp ý, phản ánh nhanh hơn", "Faster replies"),
              ("cong_khai_ket_qua", "Công khai kết quả xử lý góp ý, phản ánh",
               "Publish how feedback was handled"),
              ("khac", "Khác", "Other")),
        _list("gioi_tinh", ("nam", "Nam", "Male"), ("nu", "Nữ", "Female"),
              ("khac", "Khác", "Other")),
        _list("nhom_tuoi",
              ("18-24", "Từ 18 đến 24 tuổi", "18 to 24"),
              ("25-34", "Từ 25 đến 34 tuổi", "25 to 34"),
              ("35-44", "Từ 35 đến 44 tuổi", "35 to 44"),
              ("45-54", "Từ 45 đến 54 tuổi", "45 to 54"),
              ("55-64", "Từ 55 đến 64 tuổi", "55 to 64"),
              ("65+", "Từ 65 tuổi trở lên", "65 or older")),
        _list("trinh_do",
              ("tieu_hoc", "Tiểu học trở xuống", "Primary school or less"),
              ("thcs", "Trung học cơ sở", "Lower secondary school"),
              ("thpt", "Trung học phổ thông", "Upper secondary school"),
              ("trung_cap_cao_dang", "Trung cấp, cao đẳng", "Vocational school or college"),
              ("dai_hoc", "Đại học", "University"),
              ("sau_dai_hoc", "Sau đại học", "Postgraduate")),
        _list("nghe_nghiep",
              ("cbccvc", "Cán bộ, công chức, viên chức", "Official or public employee"),
              ("cong_nhan", "Công nhân", "Factory worker"),
              ("nong_dan", "Nông dân", "Farmer"),
              ("kinh_doanh", "Kinh doanh, buôn bán", "Business owner or trader"),
              ("nhan_vien_dn", "Nhân viên doanh nghiệp", "Company employee"),
              ("lao_dong_tu_do", "Lao động tự do", "Self-employed or casual worker"),
              ("hoc_sinh_sinh_vien", "Học sinh, sinh viên", "Student"),
              ("nghi_huu", "Nghỉ hưu", "Retired"),
              ("noi_tro", "Nội trợ", "Homemaker"),
              ("khac", "Khác", "Other")),
        _list("noi_cu_tru",
              ("cung_xa", "Cùng phường, xã, đặc khu với nơi giải quyết hồ sơ",
               "The same ward, commune or special zone as the agency"),
              ("xa_khac_tphcm", "Phường, xã, đặc khu khác của Thành phố Hồ Chí Minh",
               "Another ward, commune or special zone of Ho Chi Minh City"),
              ("tinh_khac", "Tỉnh, thành phố khác", "Another province or city")),
    ]


def _agree(name: str, factor: str, vi: str, en: str, relevant: str | None = None) -> Question:
    return Question(name, "likert", label=_t(vi, en), list_name="muc_dong_y", required=True,
                    relevant=relevant, allow_na=True, allow_dk=True,
                    metadata={"sipas_factor": factor, "content": "nhan_dinh"})


def _satisfaction(name: str, factor: str, vi: str, en: str,
                  relevant: str | None = None) -> Question:
    return Question(name, "likert", label=_t(vi, en), list_name="muc_hai_long", required=True,
                    relevant=relevant, metadata={"sipas_factor": factor, "content": "hai_long"})


def _expectation(name: str, factor: str, list_name: str, vi: str, en: str) -> list[Question]:
    return [
        Question(name, "select_one", label=_t(vi, en), list_name=list_name, allow_dk=True,
                 hint=_t("Chọn một điều cần ưu tiên nhất.", "Choose the single top priority."),
                 metadata={"sipas_factor": factor, "content": "mong_doi"}),
        Question(f"{name}_khac", "text", required=True, relevant=f"${{{name}}} = 'khac'",
                 label=_t("Xin Ông/Bà ghi rõ điều khác cần cải thiện:",
                          "Please describe what else should improve:"),
                 metadata={"sipas_factor": factor, "content": "mong_doi"}),
    ]


def _tt01_points(name: str, question: str, indicator: int, points: dict[str, int],
                 vi: str, en: str) -> Question:
    # if(${q} = 'a', 2, if(${q} = 'b', 1, if(${q} = 'c', 0, '')))  ('' when unanswered)
    expr = "''"
    for code, p in reversed(list(points.items())):
        expr = f"if(${{{question}}} = '{code}', {p}, {expr})"
    return Question(name, "calculate", calculation=expr, label=_t(vi, en),
                    metadata={"tt01_indicator": indicator, "max_points": 2})


def standard_template() -> Questionnaire:
    """A fresh copy of the standard questionnaire (callers may edit it)."""
    giao_dich = Group("giao_dich", label=_t("Phần A. Thông tin về hồ sơ đã giải quyết",
                                            "Part A. The dossier that was handled"), children=[
        Question("gioi_thieu", "note", label=_t(
            "Xin chào Ông/Bà. Chúng tôi đang thực hiện khảo sát xã hội học về sự hài lòng của "
            "người dân, tổ chức đối với sự phục vụ của cơ quan hành chính nhà nước trên địa "
            "bàn Thành phố Hồ Chí Minh. Thông tin Ông/Bà cung cấp được giữ bí mật và chỉ dùng "
            "để tổng hợp thống kê.",
            "Hello. We are carrying out a sociological survey of how satisfied citizens and "
            "organisations are with the service of state administrative agencies in Ho Chi "
            "Minh City. Your answers are kept confidential and used only for statistics.")),
        Question("co_quan", "agency", required=True, label=_t(
            "Cơ quan đã giải quyết hồ sơ của Ông/Bà", "The agency that handled your dossier"),
            metadata={"role": "agency"}),
        Question("thu_tuc", "procedure", required=True, label=_t(
            "Thủ tục hành chính Ông/Bà đã thực hiện", "The administrative procedure you used"),
            metadata={"role": "procedure"}),
        Question("kenh", "select_one", list_name="kenh", required=True, label=_t(
            "Ông/Bà đã nộp hồ sơ theo hình thức nào?", "How did you submit the dossier?"),
            metadata={"role": "channel"}),
        Question("ngay_nop_ho_so", "date", allow_dk=True, label=_t(
            "Ngày nộp hồ sơ", "Date the dossier was submitted"),
            constraint=". <= today()", constraint_message=_t(
                "Ngày nộp hồ sơ không thể sau ngày hôm nay.",
                "The submission date cannot be in the future.")),
        Question("ngay_nhan_ket_qua", "date", required=True, allow_dk=True, label=_t(
            "Ngày Ông/Bà nhận kết quả giải quyết hồ sơ", "Date you received the result"),
            constraint=(". <= today() and (${ngay_nop_ho_so} = '' or "
                        "${ngay_nop_ho_so} = 'dk' or . >= ${ngay_nop_ho_so})"),
            constraint_message=_t(
                "Ngày nhận kết quả phải sau ngày nộp hồ sơ và không sau ngày hôm nay.",
                "The result date must be after the submission date and not in the future."),
            metadata={"role": "result_date"}),
    ])

    tiep_can = Group("tiep_can", label=_t("Phần B. Tiếp cận dịch vụ",
                                          "Part B. Access to the service"), children=[
        Question("tiep_can_huong_dan", "note", label=_t(
            "Xin Ông/Bà cho biết mức độ đồng ý với các nhận định sau.",
            "Please say how far you agree with the following statements.")),
        _agree("tc_nd_cho_ngoi", "tiep_can",
               "Nơi ngồi chờ giải quyết hồ sơ có đủ chỗ ngồi.",
               "The waiting area had enough seats.", VISITED_DESK),
        _agree("tc_nd_trang_thiet_bi", "tiep_can",
               "Trang thiết bị phục vụ người dân đầy đủ.",
               "There was enough equipment for citizens.", VISITED_DESK),
        _agree("tc_nd_hien_dai", "tiep_can",
               "Trang thiết bị phục vụ người dân hiện đại, dễ sử dụng.",
               "The equipment for citizens was modern and easy to use.", VISITED_DESK),
        _agree("tc_nd_cong_dvc", "tiep_can",
               "Cổng dịch vụ công trực tuyến dễ truy cập, dễ sử dụng.",
               "The online public service portal was easy to reach and use.", ONLINE),
        _satisfaction("tc_hai_long", "tiep_can",
                      "Ông/Bà hài lòng như thế nào về việc tiếp cận dịch vụ?",
                      "How satisfied are you with access to the service?"),
        *_expectation("tc_mong_doi", "tiep_can", "md_tiep_can",
                      "Về tiếp cận dịch vụ, theo Ông/Bà cần ưu tiên cải thiện điều gì nhất?",
                      "On access to the service, what should improve first?"),
    ])

    thu_tuc = Group("thu_tuc_hanh_chinh", label=_t("Phần C. Thủ tục hành chính",
                                                   "Part C. The administrative procedure"),
                    children=[
        _agree("tthc_nd_niem_yet", "thu_tuc_hanh_chinh",
               "Thủ tục hành chính được niêm yết công khai đầy đủ.",
               "The procedure was fully published."),
        _agree("tthc_nd_chinh_xac", "thu_tuc_hanh_chinh",
               "Thủ tục hành chính được niêm yết công khai chính xác.",
               "The published procedure was accurate."),
        _agree("tthc_nd_thanh_phan", "thu_tuc_hanh_chinh",
               "Thành phần hồ sơ mà Ông/Bà phải nộp là đúng quy định.",
               "The documents you had to submit were those the rules require."),
        _agree("tthc_nd_phi", "thu_tuc_hanh_chinh",
               "Phí, lệ phí mà Ông/Bà phải nộp là đúng quy định.",
               "The fees and charges you paid were those the rules set."),
        _agree("tthc_nd_thoi_han", "thu_tuc_hanh_chinh",
               "Thời hạn giải quyết ghi trên Giấy tiếp nhận hồ sơ và hẹn trả kết quả là đúng "
               "quy định.",
               "The processing time on the receipt and appointment slip was the one the rules "
               "set."),
        _satisfaction("tthc_hai_long", "thu_tuc_hanh_chinh",
                      "Ông/Bà hài lòng như thế nào về thủ tục hành chính đã thực hiện?",
                      "How satisfied are you with the administrative procedure?"),
        *_expectation("tthc_mong_doi", "thu_tuc_hanh_chinh", "md_thu_tuc",
                      "Về thủ tục hành chính, theo Ông/Bà cần ưu tiên cải thiện điều gì nhất?",
                      "On the procedure, what should improve first?"),
    ])

    cong_chuc = Group("cong_chuc", label=_t(
        "Phần D. Công chức trực tiếp giải quyết công việc",
        "Part D. The civil servants who handled the matter"), children=[
        _agree("cc_nd_lich_su", "cong_chuc", "Công chức có thái độ giao tiếp lịch sự.",
               "The civil servants were polite."),
        _agree("cc_nd_lang_nghe", "cong_chuc",
               "Công chức chú ý lắng nghe ý kiến của Ông/Bà.",
               "The civil servants listened carefully to you."),
        _agree("cc_nd_giai_thich", "cong_chuc",
               "Công chức trả lời, giải thích đầy đủ các ý kiến của Ông/Bà.",
               "The civil servants answered and explained all your questions."),
        _agree("cc_nd_huong_dan", "cong_chuc",
               "Công chức hướng dẫn kê khai hồ sơ tận tình, chu đáo và dễ hiểu.",
               "The civil servants guided you through the forms carefully and clearly."),
        _agree("cc_nd_tuan_thu", "cong_chuc",
               "Công chức tuân thủ đúng quy định trong giải quyết công việc.",
               "The civil servants followed the rules."),
        Question("cc_thai_do", "likert", list_name="muc_hai_long", required=True,
                 allow_na=True, label=_t(
                     "Ông/Bà đánh giá thế nào về thái độ của cán bộ, công chức hướng dẫn, "
                     "tiếp nhận, giải quyết hồ sơ?",
                     "How do you rate the attitude of the officials who guided, received and "
                     "handled your dossier?"),
                 metadata={"tt01_indicator": 7, "nd61_item": "dd"}),
        Question("cc_phien_ha", "select_one", list_name="co_khong", required=True,
                 allow_dk=True, label=_t(
                     "Trong quá trình giải quyết hồ sơ, Ông/Bà có bị cán bộ, công chức gây "
                     "phiền hà, sách nhiễu hoặc gợi ý chi thêm tiền ngoài quy định không?",
                     "While your dossier was handled, did any official cause you trouble, "
                     "harass you or hint at an extra payment?"),
                 metadata={"tt01_indicator": 7, "sipas_factor": "cong_chuc",
                           "content": "nhan_dinh"}),
        _satisfaction("cc_hai_long", "cong_chuc",
                      "Ông/Bà hài lòng như thế nào về công chức trực tiếp giải quyết công việc?",
                      "How satisfied are you with the civil servants who handled the matter?"),
        *_expectation("cc_mong_doi", "cong_chuc", "md_cong_chuc",
                      "Về công chức, theo Ông/Bà cần ưu tiên cải thiện điều gì nhất?",
                      "On the civil servants, what should improve first?"),
    ])

    ket_qua = Group("ket_qua", label=_t("Phần E. Kết quả cung ứng dịch vụ",
                                        "Part E. The result of the service"), children=[
        Question("kq_tra_ket_qua", "select_one", list_name="tt01_tra_ket_qua", required=True,
                 allow_dk=True, label=_t(
                     "Hồ sơ của Ông/Bà được trả kết quả so với ngày hẹn trên Giấy tiếp nhận hồ "
                     "sơ và hẹn trả kết quả như thế nào?",
                     "Compared with the date on the receipt and appointment slip, when was "
                     "your result returned?"),
                 metadata={"tt01_indicator": 1, "nd61_item": "a", "sipas_factor": "ket_qua",
                           "content": "nhan_dinh"}),
        Question("kq_xin_loi", "select_one", list_name="co_khong", required=True,
                 allow_dk=True, relevant="${kq_tra_ket_qua} = 'tre_hen'", label=_t(
                     "Khi trễ hẹn, cơ quan có thông báo và xin lỗi Ông/Bà không?",
                     "When the result was late, did the agency inform you and apologise?"),
                 metadata={"sipas_factor": "ket_qua", "content": "nhan_dinh"}),
        Question("kq_so_lan_lien_he", "select_one", list_name="tt01_so_lan", required=True,
                 allow_dk=True, label=_t(
                     "Ông/Bà đã phải liên hệ nơi tiếp nhận bao nhiêu lần để bổ sung, hoàn "
                     "thiện hồ sơ (kể cả trực tuyến)?",
                     "How many times did you have to contact the receiving office to complete "
                     "the dossier (online included)?"),
                 metadata={"tt01_indicator": 3, "nd61_item": "c", "sipas_factor": "ket_qua",
                           "content": "nhan_dinh"}),
        Question("kq_so_co_quan", "select_one", list_name="tt01_so_co_quan", required=True,
                 allow_dk=True, label=_t(
                     "Ông/Bà đã phải liên hệ bao nhiêu cơ quan, đơn vị để hoàn thiện hồ sơ?",
                     "How many agencies or units did you have to contact to complete the "
                     "dossier?"),
                 metadata={"tt01_indicator": 4, "nd61_item": "b", "sipas_factor": "ket_qua",
                           "content": "nhan_dinh"}),
        _agree("kq_nd_dung_quy_dinh", "ket_qua",
               "Kết quả mà Ông/Bà nhận được là đúng quy định.",
               "The result you received was lawful."),
        _agree("kq_nd_chinh_xac", "ket_qua",
               "Kết quả mà Ông/Bà nhận được có thông tin đầy đủ, chính xác.",
               "The result you received was complete and accurate."),
        _satisfaction("kq_hai_long", "ket_qua",
                      "Ông/Bà hài lòng như thế nào về kết quả giải quyết hồ sơ?",
                      "How satisfied are you with the result?"),
        *_expectation("kq_mong_doi", "ket_qua", "md_ket_qua",
                      "Về kết quả cung ứng dịch vụ, theo Ông/Bà cần ưu tiên cải thiện điều gì "
                      "nhất?", "On the result of the service, what should improve first?"),
    ])

    had_feedback = "${gy_da_gop_y} = 'co'"
    gop_y = Group("gop_y", label=_t(
        "Phần F. Tiếp nhận, xử lý góp ý, phản ánh, kiến nghị",
        "Part F. Receiving and handling feedback, complaints and petitions"), children=[
        Question("gy_da_gop_y", "select_one", list_name="co_khong", required=True, label=_t(
            "Ông/Bà có góp ý, phản ánh, kiến nghị với cơ quan về việc giải quyết hồ sơ không?",
            "Did you give the agency feedback, a complaint or a petition about your dossier?"),
            metadata={"sipas_factor": "gop_y", "content": "nhan_dinh"}),
        _agree("gy_nd_bo_tri", "gop_y",
               "Cơ quan có bố trí hình thức tiếp nhận góp ý, phản ánh, kiến nghị.",
               "The agency offered ways to receive feedback, complaints and petitions."),
        _agree("gy_nd_de_dang", "gop_y",
               "Ông/Bà dễ dàng thực hiện góp ý, phản ánh, kiến nghị.",
               "It was easy to give your feedback.", had_feedback),
        _agree("gy_nd_tich_cuc", "gop_y",
               "Cơ quan tiếp nhận, xử lý tích cực các góp ý, phản ánh, kiến nghị của Ông/Bà.",
               "The agency received and handled your feedback constructively.", had_feedback),
        _agree("gy_nd_thong_bao", "gop_y",
               "Cơ quan thông báo kịp thời kết quả xử lý góp ý, phản ánh, kiến nghị cho Ông/Bà.",
               "The agency told you in good time how your feedback was handled.", had_feedback),
        _satisfaction("gy_hai_long", "gop_y",
                      "Ông/Bà hài lòng như thế nào về việc tiếp nhận, xử lý góp ý, phản ánh, "
                      "kiến nghị?",
                      "How satisfied are you with how your feedback was received and handled?",
                      had_feedback),
        *_expectation("gy_mong_doi", "gop_y", "md_gop_y",
                      "Về tiếp nhận, xử lý góp ý, phản ánh, kiến nghị, theo Ông/Bà cần ưu tiên "
                      "cải thiện điều gì nhất?",
                      "On handling feedback, what should improve first?"),
    ])

    nd61 = Group("nghi_dinh_61", label=_t(
        "Phần G. Đánh giá theo Điều 31 Nghị định 61/2018/NĐ-CP",
        "Part G. Evaluation under Art. 31 of Decree 61/2018/ND-CP"), children=[
        Question("nd61_thong_tin", "select_one", list_name="thong_tin_cong_khai",
                 required=True, allow_dk=True, label=_t(
                     "Thông tin về thủ tục hành chính được công khai (thành phần hồ sơ, phí, "
                     "lệ phí, thời hạn giải quyết) có chính xác, đầy đủ và kịp thời không?",
                     "Was the published information on the procedure (documents, fees, "
                     "processing time) accurate, complete and up to date?"),
                 metadata={"nd61_item": "d"}),
        Question("nd61_chi_them", "select_one", list_name="co_khong", required=True,
                 allow_dk=True, label=_t(
                     "Ngoài phí, lệ phí theo quy định, Ông/Bà có phải chi thêm khoản tiền nào "
                     "khác để được giải quyết hồ sơ không?",
                     "Apart from the official fees and charges, did you have to pay anything "
                     "else to get the dossier handled?"),
                 metadata={"nd61_item": "e"}),
        Question("nd61_so_tien", "integer", minimum=0, maximum=1_000_000_000, allow_dk=True,
                 relevant="${nd61_chi_them} = 'co'", label=_t(
                     "Số tiền chi thêm ngoài quy định (đồng)",
                     "The extra amount paid (VND)"),
                 hint=_t("Không bắt buộc trả lời.", "Answering is optional."),
                 metadata={"nd61_item": "e"}),
        Question("nd61_tra_loi_gop_y", "likert", list_name="muc_hai_long", required=True,
                 allow_dk=True, relevant=had_feedback, label=_t(
                     "Ông/Bà đánh giá thế nào về thời gian và chất lượng trả lời góp ý, phản "
                     "ánh, kiến nghị của Ông/Bà?",
                     "How do you rate the time taken and the quality of the reply to your "
                     "feedback?"),
                 metadata={"nd61_item": "g"}),
        Question("nd61_dvctt", "likert", list_name="muc_hai_long", required=True,
                 relevant=ONLINE, label=_t(
                     "Ông/Bà đánh giá thế nào về tiến độ và chất lượng của dịch vụ công trực "
                     "tuyến đã sử dụng?",
                     "How do you rate the speed and quality of the online public service you "
                     "used?"),
                 metadata={"nd61_item": "h"}),
        Question("nd61_dvctt_van_de", "select_multiple", list_name="loi_dvctt", required=True,
                 relevant=ONLINE, label=_t(
                     "Khi dùng dịch vụ công trực tuyến, Ông/Bà gặp những vấn đề nào?",
                     "Which problems did you meet when using the online public service?"),
                 hint=_t("Có thể chọn nhiều phương án.", "Choose all that apply."),
                 constraint="not(selected(., 'khong_co_van_de') and count-selected(.) > 1)",
                 constraint_message=_t(
                     "“Không gặp vấn đề gì” không thể chọn cùng các vấn đề khác.",
                     "“No problem at all” cannot be chosen together with a problem."),
                 metadata={"nd61_item": "h"}),
    ])

    chung = Group("danh_gia_chung", label=_t("Phần H. Đánh giá chung",
                                             "Part H. Overall assessment"), children=[
        Question("hai_long_chung", "likert", list_name="muc_hai_long", required=True,
                 label=_t("Nhìn chung, Ông/Bà hài lòng như thế nào về sự phục vụ của cơ quan?",
                          "Overall, how satisfied are you with the agency's service?"),
                 metadata={"content": "hai_long_chung"}),
        Question("diem_chung", "rating", allow_dk=True, label=_t(
            "Nếu chấm theo thang điểm từ 0 đến 10, Ông/Bà chấm sự phục vụ của cơ quan bao "
            "nhiêu điểm?", "On a scale from 0 to 10, how would you score the agency's service?"),
            hint=_t("0 là rất kém, 10 là rất tốt.", "0 is very poor, 10 is excellent.")),
        Question("y_kien_khac", "long_text", label=_t(
            "Ông/Bà có ý kiến, đề xuất nào khác để cơ quan phục vụ tốt hơn không?",
            "Do you have any other comment or suggestion for better service?")),
    ])

    ho_so = Group("nguoi_tra_loi", label=_t("Phần I. Thông tin về người trả lời",
                                            "Part I. About the respondent"), children=[
        Question("gioi_tinh", "select_one", list_name="gioi_tinh", required=True,
                 label=_t("Giới tính", "Sex"), metadata={"profile": "sex"}),
        Question("nhom_tuoi", "select_one", list_name="nhom_tuoi", required=True,
                 label=_t("Nhóm tuổi", "Age group"), metadata={"profile": "age_group"}),
        Question("trinh_do", "select_one", list_name="trinh_do", required=True,
                 label=_t("Trình độ học vấn cao nhất", "Highest level of education"),
                 metadata={"profile": "education"}),
        Question("nghe_nghiep", "select_one", list_name="nghe_nghiep", required=True,
                 label=_t("Nghề nghiệp hiện nay", "Current occupation"),
                 metadata={"profile": "occupation"}),
        Question("noi_cu_tru", "select_one", list_name="noi_cu_tru", required=True,
                 label=_t("Nơi cư trú hiện nay", "Current place of residence"),
                 metadata={"profile": "residence"}),
        Question("cam_on", "note", label=_t("Xin chân thành cảm ơn Ông/Bà!",
                                            "Thank you very much!")),
    ])

    points = [
        _tt01_points("tt01_diem_1", "kq_tra_ket_qua", 1,
                     {"som_hen": 2, "dung_hen": 1, "tre_hen": 0},
                     "Điểm chỉ số 1 Thông tư 01/2018/TT-VPCP (tiến độ trả kết quả)",
                     "Circular 01/2018 indicator 1 points (timeliness)"),
        _tt01_points("tt01_diem_3", "kq_so_lan_lien_he", 3,
                     {"khong_lan_nao": 2, "mot_lan": 1, "hai_lan_tro_len": 0},
                     "Điểm chỉ số 3 Thông tư 01/2018/TT-VPCP (số lần liên hệ)",
                     "Circular 01/2018 indicator 3 points (contacts)"),
        _tt01_points("tt01_diem_4", "kq_so_co_quan", 4,
                     {"khong_co_quan_nao": 2, "chi_mot_cua": 1, "nhieu_co_quan": 0},
                     "Điểm chỉ số 4 Thông tư 01/2018/TT-VPCP (số cơ quan phải liên hệ)",
                     "Circular 01/2018 indicator 4 points (agencies contacted)"),
        Question("tt01_diem_7", "calculate", label=_t(
            "Điểm chỉ số 7 Thông tư 01/2018/TT-VPCP (thái độ)",
            "Circular 01/2018 indicator 7 points (attitude)"),
            # 0 if harassment was reported; else 2 early, 1 on time, 0 late (Art. 13 item 7)
            calculation=("if(${cc_phien_ha} = 'co', 0, if(${cc_phien_ha} = 'khong', "
                         "if(${kq_tra_ket_qua} = 'som_hen', 2, "
                         "if(${kq_tra_ket_qua} = 'dung_hen', 1, "
                         "if(${kq_tra_ket_qua} = 'tre_hen', 0, ''))), ''))"),
            metadata={"tt01_indicator": 7, "max_points": 2}),
    ]

    return Questionnaire(
        name="khao_sat_hai_long_chuan",
        title=_t("Phiếu khảo sát sự hài lòng của người dân, tổ chức đối với sự phục vụ của cơ "
                 "quan hành chính nhà nước",
                 "Survey of citizens' and organisations' satisfaction with the service of "
                 "state administrative agencies"),
        children=[giao_dich, tiep_can, thu_tuc, cong_chuc, ket_qua, gop_y, nd61, chung, ho_so,
                  *points],
        choice_lists=_choice_lists(),
        default_language="vi",
        version="2025.1",
        metadata={
            "template": "standard-satisfaction",
            "scales": {"muc_hai_long": "satisfaction-5", "muc_dong_y": "agreement-5"},
            "sources": [
                "Nghị định 61/2018/NĐ-CP, Điều 31",
                "Thông tư 01/2018/TT-VPCP, Điều 13",
                "QĐ 2640/QĐ-BNV (SIPAS 2017–2020), QĐ 1001/QĐ-BNV (2023–2026)",
                "QĐ 104/2024/QĐ-UBND TP.HCM",
            ],
        },
    )
