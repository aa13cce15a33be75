"""``labbench train`` flags that map onto the config: --tensorboard is train.tensorboard, in --set order."""

from labbench.cli import make_parser
from labbench.cli.common import build_config


def config_of(*argv: str):
    return build_config(make_parser().parse_args(["train", *argv]))


def test_tensorboard_flag_turns_on_the_writer():
    assert config_of().train.tensorboard is False
    assert config_of("--tensorboard").train.tensorboard is True


def test_a_later_set_overrides_the_flag_as_any_later_override_does():
    assert config_of("--tensorboard", "--set", "train.tensorboard=false").train.tensorboard is False
