import copy

import pytest
import torch
from torch import nn

from labbench.models.heads import DINOHead, projection_mlp


def _count(module: nn.Module, kind: type) -> int:
    return sum(isinstance(m, kind) for m in module.modules())


@pytest.mark.parametrize("num_layers", [2, 3])
def test_projection_mlp_has_the_requested_number_of_linear_layers(num_layers):
    head = projection_mlp(16, 32, 8, num_layers=num_layers)
    assert _count(head, nn.Linear) == num_layers
    assert _count(head, nn.BatchNorm1d) == num_layers - 1
    assert head(torch.randn(4, 16)).shape == (4, 8)


def test_projection_mlp_without_batch_norm_keeps_linear_biases():
    head = projection_mlp(16, 32, 8, batch_norm=False)
    assert _count(head, nn.BatchNorm1d) == 0
    assert all(m.bias is not None for m in head.modules() if isinstance(m, nn.Linear))


def test_last_bn_standardises_each_output_without_learned_scale():
    head = projection_mlp(16, 32, 8, num_layers=3, last_bn=True).train()
    z = head(torch.randn(64, 16) * 5 + 3)
    assert torch.allclose(z.mean(0), torch.zeros(8), atol=1e-5)
    assert torch.allclose(z.std(0, unbiased=False), torch.ones(8), atol=1e-3)
    assert not head[-1].affine


def _prototype_norms(head: DINOHead) -> torch.Tensor:
    return head.last_layer.weight.norm(dim=1)  # one row per output prototype


def test_dino_head_outputs_out_dim_logits_from_unit_prototypes():
    head = DINOHead(24, out_dim=100, hidden_dim=32, bottleneck_dim=16)
    assert head(torch.randn(4, 24)).shape == (4, 100)
    assert head.last_layer.bias is None
    assert torch.allclose(_prototype_norms(head), torch.ones(100), atol=1e-5)


def test_norm_last_layer_keeps_prototypes_unit_length_while_training():
    head = DINOHead(24, out_dim=50, hidden_dim=32, bottleneck_dim=16, norm_last_layer=True)
    optimizer = torch.optim.SGD([p for p in head.parameters() if p.requires_grad], lr=10.0)
    for _ in range(3):
        optimizer.zero_grad()
        (head(torch.randn(8, 24)) * torch.randn(8, 50)).sum().backward()
        optimizer.step()
    assert torch.allclose(_prototype_norms(head), torch.ones(50), atol=1e-5)


def test_without_norm_last_layer_prototype_lengths_are_learned():
    head = DINOHead(24, out_dim=50, hidden_dim=32, bottleneck_dim=16, norm_last_layer=False)
    optimizer = torch.optim.SGD(head.parameters(), lr=10.0)
    (head(torch.randn(8, 24)) * torch.randn(8, 50)).sum().backward()
    optimizer.step()
    assert not torch.allclose(_prototype_norms(head), torch.ones(50), atol=1e-3)


def test_dino_head_copies_into_an_independent_teacher():
    student = DINOHead(24, out_dim=50, hidden_dim=32, bottleneck_dim=16)
    teacher = copy.deepcopy(student)
    x = torch.randn(4, 24)
    assert torch.equal(teacher(x), student(x))
    with torch.no_grad():
        for p in student.parameters():
            p.add_(1.0)
    assert not torch.equal(teacher(x), student(x))


def test_gradient_reaches_the_dino_head_input():
    head = DINOHead(24, out_dim=50, hidden_dim=32, bottleneck_dim=16)
    x = torch.randn(4, 24, requires_grad=True)
    (head(x) * torch.randn(4, 50)).sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0
