"""The training fingerprint depends on what the model is trained from, not on where the
checkout is (issue 18): the same repository at another path needs no new training."""

import shutil

from bot.model import fingerprint_inputs, training_fingerprint
from bot.settings import load_settings


def _copy_project_inputs(settings, root):
    """The training inputs that live in the project folder (configuration, domain, data),
    copied under ``root``; the code and resources stay those of the ``bot`` package."""
    for path in fingerprint_inputs(settings):
        if path.is_relative_to(settings.root):
            target = root / path.relative_to(settings.root)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, target)
    return load_settings({"GOVBOT_HOME": str(root)})


def test_the_same_inputs_at_two_paths_have_one_fingerprint(settings, tmp_path):
    one = _copy_project_inputs(settings, tmp_path / "checkout")
    two = _copy_project_inputs(settings, tmp_path / "elsewhere" / "govbot")
    assert one.root != two.root
    assert all(p.is_relative_to(one.root) for p in one.training_files())
    assert training_fingerprint(one) == training_fingerprint(two) == training_fingerprint(settings)

    # and it still follows the content and the names of the inputs
    before = training_fingerprint(two)
    domain = two.domain_file
    domain.write_text(domain.read_text(encoding="utf-8") + "\n# changed\n", encoding="utf-8")
    assert training_fingerprint(two) != before
    shutil.copyfile(one.domain_file, domain)
    assert training_fingerprint(two) == before
    extra = two.data_dir / "nlu" / "domains" / "finance.yml"
    extra.rename(extra.with_name("finance2.yml"))
    assert training_fingerprint(two) != before
