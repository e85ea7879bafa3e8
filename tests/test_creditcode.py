import pytest

from bot.creditcode import credit_code_check_char, is_valid_credit_code, is_valid_id_number


@pytest.mark.parametrize("code", ["91110108551385082Q", "91110108551385082q "])
def test_valid_credit_code(code):
    assert is_valid_credit_code(code)


@pytest.mark.parametrize("code", ["91110108551385082R",   # wrong check character
                                  "9111010855138508",     # too short
                                  "91110108551385082I",   # I is not in the alphabet
                                  ""])
def test_invalid_credit_code(code):
    assert not is_valid_credit_code(code)


def test_check_character_is_computed_from_the_first_17():
    assert credit_code_check_char("91110108551385082") == "Q"


def test_id_number_check_digit():
    assert is_valid_id_number("330102199001011234")
    assert not is_valid_id_number("330102199001011235")
    assert not is_valid_id_number("91110108551385082Q")
