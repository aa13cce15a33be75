import pytest

from labbench.run_config import RunConfig, apply_overrides


@pytest.fixture
def tiny_config() -> RunConfig:
    """SimCLR on 16-px shapes with a tiny CNN: a few real steps in well under a second each."""
    return apply_overrides(RunConfig(), [
        "data.image_size=16", "data.num_images=160", "backbone.name=cnn", "backbone.width=8",
        "train.batch_size=32", "train.epochs=2", "train.log_every_steps=1", "train.num_threads=2",
        "optim.name=sgd", "optim.lr=0.1", "optim.warmup_epochs=0",
        "method.projection_dim=16", "eval.max_bank=100", "eval.max_eval=32", "eval.knn_k=5",
    ])
