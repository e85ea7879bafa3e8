"""Personal numbers never reach a log, whoever logs them."""

import logging

import pytest

from bot.masking import install_log_masking, mask_text


@pytest.fixture
def masked_logging():
    before = logging.getLogRecordFactory()
    install_log_masking()
    install_log_masking()  # idempotent
    yield
    logging.setLogRecordFactory(before)


@pytest.mark.parametrize("logger_name", ["rasa.core.processor", "sqlalchemy.engine",
                                         "rasa_sdk.executor", "bot.web.auth"])
def test_every_logger_is_masked(masked_logging, caplog, logger_name):
    caplog.set_level(logging.DEBUG, logger=logger_name)  # whatever other tests set
    logging.getLogger(logger_name).warning(
        "Received user message '%s'", "我是王经理，电话13905701234，身份证330825198001011234，"
        "信用代码91330825MA2XXXXX1X")
    (record,) = caplog.records
    text = record.getMessage()
    assert "13905701234" not in text and "139****1234" in text
    assert "330825198001011234" not in text and "91330825MA2XXXXX1X" not in text
    assert "王经理" in text  # names are not numbers: exports mask them by column


def test_structlog_through_the_standard_library_is_masked(masked_logging, caplog):
    import structlog

    caplog.set_level(logging.DEBUG)
    log = structlog.wrap_logger(logging.getLogger("rasa.shared.core.events"),
                                processors=[structlog.processors.JSONRenderer()])
    log.warning("event.slot", value="13905701234")
    assert "13905701234" not in caplog.text and "139****1234" in caplog.text


def test_text_without_numbers_is_left_alone(masked_logging, caplog):
    caplog.set_level(logging.INFO)
    logging.getLogger("x").info("Trained in %.1f s, %d examples", 84.2, 7661)
    assert caplog.records[0].getMessage() == "Trained in 84.2 s, 7661 examples"
    assert mask_text("工单 QZ-20261206-0001") == "工单 QZ-20261206-0001"
