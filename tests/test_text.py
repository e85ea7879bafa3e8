from bot.text import DEFAULT_MAX_CHARS, has_words, normalize, to_simplified


def test_traditional_becomes_simplified():
    assert normalize("員工子女入學的問題能幫忙協調嗎").text == "员工子女入学的问题能帮忙协调吗"


def test_fullwidth_letters_digits_and_punctuation_become_halfwidth():
    assert normalize("ＡＢＣ１２３，！").text == "ABC123,!"


def test_whitespace_is_collapsed_and_control_characters_dropped():
    n = normalize("  我们\t\t厂\u200b的\n\n贷款\x00  ")
    assert n.text == "我们 厂的 贷款"


def test_offsets_map_back_to_the_original_text():
    original = "  衢州\t\t龍游縣的廠"
    n = normalize(original)
    start = n.text.index("龙游县")
    s, e = n.original_span(start, start + 3)
    assert original[s:e] == "龍游縣"


def test_long_messages_are_cut_and_flagged():
    n = normalize("很" * (DEFAULT_MAX_CHARS + 500))
    assert n.truncated and len(n.text) == DEFAULT_MAX_CHARS
    assert not normalize("短消息").truncated


def test_empty_and_none_are_safe():
    assert normalize("").text == "" and normalize(None).text == ""  # type: ignore[arg-type]


def test_conversion_keeps_one_character_per_character():
    text = "資料庫的頭髮乾燥了，著作權"
    assert len(to_simplified(text)) == len(text)


def test_has_words():
    assert has_words("a") and has_words("贷") and has_words("3")
    assert not has_words("😀😀 !!") and not has_words("   ")
