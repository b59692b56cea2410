"""Errors of the draw logic: a stable code, parameters, and a message in English and Chinese.

The web layer can turn a `DrawError` into its own error type with `code`, `msgid` (an English
template with `{name}` placeholders) and `params`, or use `message(locale)` directly.
"""

from __future__ import annotations

from typing import Any

#: code -> (English template, Chinese template); placeholders are `{name}` fields of `params`.
MESSAGES: dict[str, tuple[str, str]] = {
    # rank expressions
    "ranks.empty": ("The rank expression is empty.", "名次表达式为空。"),
    "ranks.too_long": (
        "The rank expression is longer than {limit} characters.",
        "名次表达式超过 {limit} 个字符。",
    ),
    "ranks.empty_term": (
        "Empty term at column {column}: remove the extra comma.",
        "第 {column} 列是空项:请删除多余的逗号。",
    ),
    "ranks.unexpected": (
        "Unexpected character '{char}' at column {column}.",
        "第 {column} 列出现意外字符“{char}”。",
    ),
    "ranks.expected_number": (
        "Expected a number at column {column}.",
        "第 {column} 列应为数字。",
    ),
    "ranks.expected_n": (
        "Expected 'n' after the step {step} at column {column} (write {start}+{step}n).",
        "第 {column} 列的步长 {step} 后应为“n”(写作 {start}+{step}n)。",
    ),
    "ranks.zero": (
        "Ranks start at 1; 0 at column {column} is not a rank.",
        "名次从 1 开始;第 {column} 列的 0 不是名次。",
    ),
    "ranks.too_large": (
        "The number at column {column} is larger than {limit}.",
        "第 {column} 列的数字大于 {limit}。",
    ),
    "ranks.reversed_range": (
        "The range {start}-{end} at column {column} runs backwards.",
        "第 {column} 列的范围 {start}-{end} 起点大于终点。",
    ),
    "ranks.zero_step": (
        "The step at column {column} must be at least 1.",
        "第 {column} 列的步长至少为 1。",
    ),
    "ranks.bound_below_start": (
        "The bound {bound} at column {column} is below the start {start}.",
        "第 {column} 列的上限 {bound} 小于起点 {start}。",
    ),
    # rules
    "rule.invalid": ("Invalid reward rule: {detail}.", "奖励规则无效:{detail}。"),
    "rule.unknown_kind": ("Unknown reward rule kind '{kind}'.", "未知的奖励规则类型“{kind}”。"),
    # entries and lists
    "entries.invalid": ("Entry {index} is invalid: {detail}.", "第 {index} 个参与项无效:{detail}。"),
    "entries.duplicate_id": (
        "Entry id {entry_id} appears twice.",
        "参与项编号 {entry_id} 重复出现。",
    ),
    "entries.missing_value": (
        "Entry {entry_id} has no {field}, which the rule needs.",
        "参与项 {entry_id} 缺少规则所需的 {field}。",
    ),
    "list.malformed": (
        "The frozen list is malformed at line {line}: {detail}.",
        "冻结名单第 {line} 行格式错误:{detail}。",
    ),
    # protocol
    "seed.malformed": (
        "The seed must be 64 hexadecimal characters (32 bytes).",
        "种子必须是 64 个十六进制字符(32 字节)。",
    ),
    "seed.mismatch": (
        "This seed does not match the published commitment; the draw cannot be revealed with it.",
        "该种子与公布的承诺值不符,不能用它揭晓抽奖。",
    ),
    "time.naive": ("Times must carry a time zone.", "时间必须带时区。"),
    "time.malformed": (
        "'{value}' is not a time of the form YYYY-MM-DDTHH:MM:SSZ.",
        "“{value}”不是 YYYY-MM-DDTHH:MM:SSZ 形式的时间。",
    ),
    "commit.freeze_before_commit": (
        "The freeze time {freeze_at} must be later than the commit time {committed_at}.",
        "冻结时间 {freeze_at} 必须晚于承诺时间 {committed_at}。",
    ),
    "freeze.before_commit": (
        "A draw cannot be frozen before it was committed.",
        "抽奖不能在承诺之前冻结。",
    ),
    "freeze.early_needs_reason": (
        "Freezing before the announced time {freeze_at} needs a reason.",
        "在公布的冻结时间 {freeze_at} 之前冻结必须说明原因。",
    ),
    "reveal.before_freeze": (
        "A draw cannot be revealed before it was frozen.",
        "抽奖不能在冻结之前揭晓。",
    ),
    "reveal.public_value_required": (
        "The list was frozen early ({frozen_at}, announced {freeze_at}), so a public value is "
        "required.",
        "名单提前冻结({frozen_at},公布的时间为 {freeze_at}),因此必须提供公开随机值。",
    ),
    "reveal.public_value_announced": (
        "A public value source was announced at freeze ({source}); its value is required.",
        "冻结时已公布公开随机值来源({source}),必须提供该值。",
    ),
    "public_value.invalid": (
        "The public value must be 1 to {limit} characters without surrounding spaces.",
        "公开随机值必须为 1 到 {limit} 个字符,且首尾不能有空格。",
    ),
    "state.wrong_status": (
        "This step needs a draw that is {expected}, but it is {status}.",
        "此操作要求抽奖状态为 {expected},当前为 {status}。",
    ),
    "abort.too_early": (
        "A draw cannot be aborted before it was committed or frozen.",
        "抽奖不能在承诺或冻结之前中止。",
    ),
    "abort.reason_required": ("Aborting a draw needs a reason.", "中止抽奖必须说明原因。"),
    "replace.not_aborted": (
        "Draw {draw_id} can only be replaced after it was aborted, or after its reveal when "
        "winners withdraw (it is {status}).",
        "抽奖 {draw_id} 只有在中止后,或揭晓后有中奖者放弃时才能被替换(当前为 {status})。",
    ),
    "replace.other_assignment": (
        "Draw {draw_id} belongs to another homework; a replacement runs for the same homework.",
        "抽奖 {draw_id} 属于另一项作业;替换抽奖必须针对同一项作业。",
    ),
    "replace.withdrawn_required": (
        "Draw {draw_id} was revealed: name the winners who withdrew (their entry ids) to "
        "replace it.",
        "抽奖 {draw_id} 已揭晓:要替换它,请写明放弃领奖的中奖者(参与项编号)。",
    ),
    "replace.withdrawn_on_aborted": (
        "Draw {draw_id} was aborted and has no winners, so nobody can withdraw from it.",
        "抽奖 {draw_id} 已中止,没有中奖者,因此无人可以放弃。",
    ),
    "replace.not_a_winner": (
        "Entry {entry_id} is not a winner of draw {draw_id}.",
        "参与项 {entry_id} 不是抽奖 {draw_id} 的中奖者。",
    ),
    "replace.withdrawn_twice": (
        "Entry {entry_id} is named twice among the withdrawn winners.",
        "参与项 {entry_id} 在放弃领奖的中奖者中出现了两次。",
    ),
    "replace.reason_required": (
        "Say why the winners withdrew.",
        "请说明中奖者放弃领奖的原因。",
    ),
    "replace.fixed_ranks": (
        "Draw {draw_id} gives prizes to fixed ranks; a withdrawn rank is not drawn again.",
        "抽奖 {draw_id} 按固定名次颁奖;放弃的名次不会重新抽取。",
    ),
    "replace.rule_mismatch": (
        "A replacement for {count} withdrawn winners of draw {draw_id} draws exactly {count} "
        "by the same kind of rule ({kind}).",
        "替换抽奖 {draw_id} 中 {count} 位放弃领奖的中奖者,必须用同类规则({kind})恰好抽取 "
        "{count} 位。",
    ),
    "freeze.excluded_entry": (
        "Entry {entry_id} won draw {draw_id}, so it cannot enter the draw that replaces it.",
        "参与项 {entry_id} 已在抽奖 {draw_id} 中奖,不能参加替换它的抽奖。",
    ),
    "reveal.public_value_replacement": (
        "This lottery replaces withdrawn winners of draw {draw_id}; its list was known before "
        "the commit, so a public value is required.",
        "本抽奖替换抽奖 {draw_id} 中放弃领奖的中奖者;其名单在承诺前已知,因此必须提供公开随机值。",
    ),
    "record.invalid": ("Invalid draw record: {detail}.", "抽奖记录无效:{detail}。"),
    # verification of a published record
    "verify.ok": ("OK", "通过"),
    "verify.skipped": ("not applicable at this stage", "当前阶段不适用"),
    "verify.commitment_mismatch": (
        "SHA-256 of the seed is {actual}, but the commitment is {expected}",
        "种子的 SHA-256 为 {actual},但承诺值为 {expected}",
    ),
    "verify.list_hash_mismatch": (
        "SHA-256 of the frozen list is {actual}, but the record says {expected}",
        "冻结名单的 SHA-256 为 {actual},但记录中为 {expected}",
    ),
    "verify.list_not_utf8": (
        "the frozen list is not valid Unicode",
        "冻结名单不是有效的 Unicode 文本",
    ),
    "verify.entry_count_mismatch": (
        "the frozen list has {actual} entries, but the record says {expected}",
        "冻结名单有 {actual} 个参与项,但记录中为 {expected}",
    ),
    "verify.time_order": (
        "{later} ({later_at}) is earlier than {earlier} ({earlier_at})",
        "{later}({later_at})早于 {earlier}({earlier_at})",
    ),
    "verify.early_without_reason": (
        "frozen early ({frozen_at}, announced {freeze_at}) without a reason",
        "提前冻结({frozen_at},公布的时间为 {freeze_at})但没有说明原因",
    ),
    "verify.public_value_missing": (
        "a public value was required (early freeze or announced source) but is missing",
        "需要公开随机值(提前冻结或已公布来源),但记录中没有",
    ),
    "verify.replaces_itself": ("the draw says it replaces itself", "该抽奖声称替换了自己"),
    "verify.public_value_replacement": (
        "a lottery that replaces withdrawn winners needs a public value, but it is missing",
        "替换放弃者的抽签需要公开随机值,但记录中没有",
    ),
    "verify.key_mismatch": (
        "the key recomputed from the record is {actual}, but the record says {expected}",
        "根据记录复算的密钥为 {actual},但记录中为 {expected}",
    ),
    "verify.winners_mismatch": (
        "recomputed winners differ from the record at place {place}: expected {expected}, "
        "the record says {actual}",
        "复算的中奖者与记录在第 {place} 位不同:应为 {expected},记录为 {actual}",
    ),
    "verify.winners_unavailable": (
        "winners cannot be recomputed: {detail}",
        "无法复算中奖者:{detail}",
    ),
    # the replacement check
    "verify.replacement_rule": (
        "{count} winners withdrew, so the rule must draw exactly {count} by lottery, top_score "
        "or top_likes, but it is {rule}",
        "有 {count} 位中奖者放弃,规则必须用 lottery、top_score 或 top_likes 恰好抽取 {count} 位,"
        "但规则为 {rule}",
    ),
    "verify.replacement_list_unreadable": (
        "the frozen list cannot be parsed, so the excluded winners cannot be looked for",
        "冻结名单无法解析,无法检查已排除的中奖者",
    ),
    "verify.excluded_in_list": (
        "entry {entry_id} won draw {draw_id} (or a draw it replaced) but is on line {line} of "
        "the frozen list",
        "参与项 {entry_id} 已在抽奖 {draw_id}(或其替换的抽奖)中奖,却出现在冻结名单第 {line} 行",
    ),
    "verify.replaced_invalid": (
        "the record of the replaced draw {draw_id} does not verify (failed: {failed})",
        "被替换抽奖 {draw_id} 的记录未通过验证(失败项:{failed})",
    ),
    "verify.replaces_nothing": (
        "a replaced draw's record was given, but this draw replaces none",
        "提供了被替换抽奖的记录,但本抽奖并未替换任何抽奖",
    ),
    "verify.replaced_other_draw": (
        "the second record is draw {actual}, but this record names draw {expected}",
        "第二份记录是抽奖 {actual},但本记录指明的是抽奖 {expected}",
    ),
    "verify.replaced_other_assignment": (
        "the replaced draw belongs to {course} {assignment}, not to this draw's homework",
        "被替换的抽奖属于 {course} {assignment},不是本抽奖的作业",
    ),
    "verify.replaced_not_aborted": (
        "draw {draw_id} is {status}; a replacement that names no withdrawn winners may only "
        "replace an aborted draw",
        "抽奖 {draw_id} 的状态为 {status};未写明放弃者的替换抽奖只能替换已中止的抽奖",
    ),
    "verify.replaced_not_revealed": (
        "winners withdrew from draw {draw_id}, but its record is {status}, not revealed",
        "记录称抽奖 {draw_id} 有中奖者放弃,但其状态为 {status},并未揭晓",
    ),
    "verify.withdrawal_differs": (
        "the aborted draw {draw_id} carried another withdrawal than this record",
        "已中止的抽奖 {draw_id} 所记录的放弃情况与本记录不同",
    ),
    "verify.replaced_key": (
        "the replaced draw's key is {actual}, but this record says {expected}",
        "被替换抽奖的密钥为 {actual},但本记录中为 {expected}",
    ),
    "verify.replaced_rule": (
        "the replaced draw's rule is {expected}, but this draw's is {actual}",
        "被替换抽奖的规则类型为 {expected},但本抽奖为 {actual}",
    ),
    "verify.withdrawn_not_winner": (
        "entry {entry_id} is not a winner of draw {draw_id}",
        "参与项 {entry_id} 不是抽奖 {draw_id} 的中奖者",
    ),
    "verify.excluded_mismatch": (
        "the excluded entries must be exactly the winners of draw {draw_id} and of the draws it "
        "replaced; entry {entry_id} differs",
        "排除的参与项必须恰好是抽奖 {draw_id} 及其替换过的抽奖的中奖者;参与项 {entry_id} 不符",
    ),
    "verify.list_not_derived": (
        "the frozen list is not draw {draw_id}'s list without the excluded entries (first "
        "difference at line {line})",
        "冻结名单不是抽奖 {draw_id} 的名单去掉已排除参与项后的结果(第 {line} 行起不同)",
    ),
    # record version 3
    "commit.freeze_before_deadline": (
        "The freeze time {freeze_at} is before the homework's deadline {deadline}; freeze at or "
        "after the deadline.",
        "冻结时间 {freeze_at} 早于作业截止时间 {deadline};请在截止时间或之后冻结。",
    ),
    "commit.after_deadline": (
        "The homework's deadline {deadline} has passed (now {committed_at}): the entries are "
        "known, so commit only as a declared late draw.",
        "作业截止时间 {deadline} 已过(现在 {committed_at}):参与名单已可知,只能以声明的迟到抽奖提交承诺。",
    ),
    "freeze.after_beacon": (
        "The drand round {round} was published at {round_at}; a list frozen after it could be "
        "chosen knowing the outcome. Abort this draw and commit a new one.",
        "drand 第 {round} 轮已于 {round_at} 公布;在此之后冻结的名单可能是在已知结果的情况下选定的。"
        "请中止本抽奖并重新提交承诺。",
    ),
    "reveal.beacon_unused": (
        "A {kind} draw uses no randomness; it takes no beacon signature.",
        "{kind} 规则不使用随机数,不需要信标签名。",
    ),
    "reveal.beacon_not_yet": (
        "The drand round {round} is published at {round_at}; reveal after that.",
        "drand 第 {round} 轮将于 {round_at} 公布;请在此之后揭晓。",
    ),
    "reveal.beacon_required": (
        "The signature of drand quicknet round {round} is required to reveal this lottery.",
        "揭晓本抽签需要 drand quicknet 第 {round} 轮的签名。",
    ),
    "reveal.beacon_invalid": (
        "This is not the signature of drand quicknet round {round} (it does not verify against "
        "the network's public key).",
        "这不是 drand quicknet 第 {round} 轮的签名(无法用该网络的公钥验证)。",
    ),
    "abort.after_beacon": (
        "The drand round {round} is published, so anyone can compute the winners: a draw cannot be "
        "aborted once its outcome is known. Reveal it.",
        "drand 第 {round} 轮已经公布,任何人都能算出中奖者:结果已知的抽奖不能中止,请揭晓。",
    ),
    "verify.aborted_after_beacon": (
        "aborted at {aborted_at}, after round {round} was published ({round_at}): the outcome was "
        "known when it was stopped",
        "中止时间 {aborted_at} 晚于第 {round} 轮的公布时间 {round_at}:中止时结果已可知",
    ),
    "excluded.invalid": ("Invalid excluded reply: {detail}.", "被排除的回复无效:{detail}。"),
    "excluded.malformed": (
        "The excluded list is malformed at line {line}: {detail}.",
        "排除名单第 {line} 行格式错误:{detail}。",
    ),
    "verify.metadata_mismatch": (
        "SHA-256 of the commit metadata is {actual}, but the record says {expected}",
        "提交元数据的 SHA-256 为 {actual},但记录中为 {expected}",
    ),
    "verify.late_commit": (
        "committed at {committed_at}, not before the deadline {deadline}, and not declared late",
        "承诺时间 {committed_at} 不早于截止时间 {deadline},且未声明为迟到抽奖",
    ),
    "verify.freeze_before_deadline": (
        "freeze_at {freeze_at} is before the deadline {deadline}",
        "冻结时间 {freeze_at} 早于截止时间 {deadline}",
    ),
    "verify.beacon_round": (
        "the beacon must be quicknet round {expected} (the first at or after freeze_at + 10 "
        "minutes), but the record names {actual}",
        "信标应为 quicknet 第 {expected} 轮(freeze_at 加 10 分钟后的第一轮),但记录为 {actual}",
    ),
    "verify.beacon_kind": (
        "a lottery names a beacon round and the other rules none; this {kind} does not",
        "抽签必须指定信标轮次,其他规则不指定;本 {kind} 规则不符",
    ),
    "verify.frozen_after_beacon": (
        "frozen at {frozen_at}, not before round {round} was published ({round_at})",
        "冻结时间 {frozen_at} 不早于第 {round} 轮的公布时间 {round_at}",
    ),
    "verify.revealed_before_beacon": (
        "revealed at {revealed_at}, before round {round} was published ({round_at})",
        "揭晓时间 {revealed_at} 早于第 {round} 轮的公布时间 {round_at}",
    ),
    "verify.beacon_invalid": (
        "the beacon signature is not drand quicknet's signature of round {round}",
        "信标签名不是 drand quicknet 第 {round} 轮的签名",
    ),
    "verify.excluded_hash_mismatch": (
        "SHA-256 of the excluded list is {actual}, but the record says {expected}",
        "排除名单的 SHA-256 为 {actual},但记录中为 {expected}",
    ),
    "verify.excluded_overlap": ("{detail}", "{detail}"),
    "verify.excluded_not_derived": (
        "the excluded list is not draw {draw_id}'s excluded list plus its winners",
        "排除名单不是抽奖 {draw_id} 的排除名单加上其中奖者",
    ),
    "verify.signature_invalid": (
        "the Ed25519 signature does not match the record",
        "Ed25519 签名与记录不符",
    ),
    "verify.signature_key": (
        "the record is signed with key {actual}, not with the expected key {expected}",
        "记录由密钥 {actual} 签名,而不是预期的密钥 {expected}",
    ),
}


def _normalize_locale(locale: str | None) -> str:
    return "zh" if locale and locale.lower().startswith("zh") else "en"


def render(code: str, params: dict[str, Any], locale: str | None = "en") -> str:
    """The message for `code` in `locale` (`zh`, `zh-CN`, `zh_CN` -> Chinese, else English)."""
    english, chinese = MESSAGES[code]
    template = chinese if _normalize_locale(locale) == "zh" else english
    return template.format(**params)


class DrawError(ValueError):
    """A refused draw operation or invalid input; `code` is stable, `params` fill the message."""

    def __init__(self, code: str, **params: Any) -> None:
        if code not in MESSAGES:
            raise KeyError(code)
        self.code = code
        self.params = params
        super().__init__(render(code, params, "en"))

    def message(self, locale: str | None = "en") -> str:
        return render(self.code, self.params, locale)

    def to_json(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "params": self.params,
            "message": {"en": self.message("en"), "zh-CN": self.message("zh-CN")},
        }
