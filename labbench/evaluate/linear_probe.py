"""Linear probe: multinomial logistic regression on frozen, standardised features.

The protocol of SimCLR (Chen et al. 2020, appendix B.6) and of the linear evaluations since: the
encoder stays fixed, a linear classifier is trained on its features. Full-batch L-BFGS finds the
exact optimum of the convex loss, so the only knob left is the L2 penalty, chosen on a held-out
share of the training features; the chosen penalty is then refitted on all of them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import Tensor

from labbench.data.split import holdout_index

#: L2 penalties tried (on the mean cross-entropy): from almost none to strong
WEIGHT_DECAYS: tuple[float, ...] = (1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1)


@dataclass
class LinearClassifier:
    """``softmax((x - mean) / std @ weight + bias)``: a fitted probe, standardisation included."""

    mean: Tensor
    std: Tensor
    weight: Tensor  # D×C
    bias: Tensor  # C

    def logits(self, features: Tensor) -> Tensor:
        return ((features.float() - self.mean) / self.std) @ self.weight + self.bias

    def predict(self, features: Tensor) -> Tensor:
        return self.logits(features).argmax(dim=1)

    def accuracy(self, features: Tensor, labels: Tensor) -> float:
        return (self.predict(features) == labels.to(features.device)).float().mean().item()


@dataclass
class LinearProbeResult:
    """Test accuracy (0..1) of the probe refitted with the weight decay that won on validation."""

    accuracy: float
    val_accuracy: float
    weight_decay: float
    sweep: dict[float, float] = field(default_factory=dict)  # weight decay -> validation accuracy
    classifier: LinearClassifier | None = None


def fit_logistic_regression(
    features: Tensor, labels: Tensor, num_classes: int, weight_decay: float, max_iter: int = 200,
    start: LinearClassifier | None = None,
) -> LinearClassifier:
    """Multinomial logistic regression with an L2 penalty ``weight_decay/2 · ‖W‖²``, by full-batch L-BFGS.

    ``start``: a fitted classifier to begin from (the loss is convex, so only the time taken changes).
    """
    x = features.float()
    mean = x.mean(dim=0)
    std = x.std(dim=0).clamp(min=1e-6)  # a constant feature would divide by zero
    x = (x - mean) / std
    y = labels.to(x.device)
    with torch.enable_grad():
        if start is None:
            weight = torch.zeros(x.shape[1], num_classes, device=x.device, requires_grad=True)
            bias = torch.zeros(num_classes, device=x.device, requires_grad=True)
        else:
            weight, bias = start.weight.clone().requires_grad_(True), start.bias.clone().requires_grad_(True)
        opt = torch.optim.LBFGS(
            [weight, bias], lr=1.0, max_iter=max_iter, history_size=20,
            tolerance_grad=1e-6, tolerance_change=1e-9, line_search_fn="strong_wolfe",
        )

        def closure() -> Tensor:
            opt.zero_grad()
            loss = F.cross_entropy(x @ weight + bias, y) + 0.5 * weight_decay * weight.pow(2).sum()
            loss.backward()
            return loss

        opt.step(closure)
    return LinearClassifier(mean, std, weight.detach(), bias.detach())


def linear_probe(
    train_features: Tensor,
    train_labels: Tensor,
    test_features: Tensor,
    test_labels: Tensor,
    *,
    weight_decays: Sequence[float] = WEIGHT_DECAYS,
    val_fraction: float = 0.2,
    seed: int = 0,
    max_iter: int = 200,
    progress: Callable[[int, int], bool] | None = None,
) -> LinearProbeResult:
    """Sweep ``weight_decays`` on a stratified validation share of the training features, refit the
    best on all of them, and score the test features.

    ``progress(done, total)`` is called after each fit; returning False cancels (``InterruptedError``).
    """
    if len(weight_decays) == 0:
        raise ValueError("linear_probe: give at least one weight decay")
    num_classes = int(max(train_labels.max(), test_labels.max())) + 1
    train_labels = train_labels.to(train_features.device)
    total = len(weight_decays) + 1 if len(weight_decays) > 1 else 1

    def tick(done: int) -> None:
        if progress is not None and progress(done, total) is False:
            raise InterruptedError("linear probe cancelled")

    sweep: dict[float, float] = {}
    fitted: dict[float, LinearClassifier] = {}
    if len(weight_decays) > 1:
        fit_idx, val_idx = holdout_index(train_labels.cpu(), len(train_labels), val_fraction, seed)
        fit_idx, val_idx = fit_idx.to(train_features.device), val_idx.to(train_features.device)
        clf = None
        # strong to weak penalty, each fit starting from the last: a warm start along the path
        for i, wd in enumerate(sorted(weight_decays, reverse=True)):
            clf = fit_logistic_regression(
                train_features[fit_idx], train_labels[fit_idx], num_classes, wd, max_iter, start=clf
            )
            sweep[float(wd)], fitted[float(wd)] = clf.accuracy(train_features[val_idx], train_labels[val_idx]), clf
            tick(i + 1)
    # ties go to the stronger penalty: the simpler classifier
    best = max(weight_decays, key=lambda wd: (sweep.get(float(wd), 0.0), wd))
    clf = fit_logistic_regression(train_features, train_labels, num_classes, best, max_iter,
                                  start=fitted.get(float(best)))
    tick(total)
    return LinearProbeResult(
        accuracy=clf.accuracy(test_features, test_labels),
        val_accuracy=sweep.get(float(best), float("nan")),
        weight_decay=float(best),
        sweep=sweep,
        classifier=clf,
    )
