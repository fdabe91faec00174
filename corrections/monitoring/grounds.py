"""The five statutory grounds of an order (社区矫正法 art. 29) in the reader's language."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from corrections.i18n import statutory_term

#: The law's own words (shown as they are to Chinese readers; English is a gloss), in its order.
GROUND_TERMS = {
    "court_prohibition_breach": ("违反人民法院禁止令", _l("Breach of a court prohibition order")),
    "left_area_without_approval": (
        "无正当理由，未经批准离开所居住的市、县",
        _l("Left the city or county of residence without approval or good reason"),
    ),
    "refused_reporting_after_warning": (
        "拒不按照规定报告自己的活动情况，被给予警告",
        _l("Refused to report their activities as required and was given a warning"),
    ),
    "police_penalty": (
        "违反监督管理规定，受到治安管理处罚",
        _l("Breached the supervision rules and received a public-security penalty"),
    ),
    "revocation_pending": (
        "拟提请撤销缓刑、假释或者暂予监外执行收监执行",
        _l("A motion to revoke probation, parole or temporary service outside prison is planned"),
    ),
}


def ground_label(code: str | None) -> str:
    """A ground in the law's Chinese for Chinese readers, "English (中文)" for the others."""
    return statutory_term(GROUND_TERMS, code)
