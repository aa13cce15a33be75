"""DINO: self-distillation with no labels (Caron, Touvron, Misra, Jégou, Mairal, Bojanowski, Joulin; ICCV 2021).

A student and an EMA teacher of the same architecture (backbone + DINO head) see multi-crop views:
two global crops and K small local crops. The teacher sees the global crops only; its outputs
are centred (a running mean, momentum 0.9) and sharpened (temperature 0.04) into targets that
the student (temperature 0.1) must match from every other view: cross-entropy over 2 × (2+K−1)
pairs. Centring alone would flatten the teacher, sharpening alone would make it one-hot; together
they avoid both collapses. The teacher follows the student with a momentum rising 0.996 → 1; the
head's last layer is frozen during the first epoch. Optional iBOT-style masked patch loss
(Zhou et al., ICLR 2022; DINOv2's direction, Oquab et al. 2023): the student's masked global
crops predict the teacher's patch tokens. Reference: github.com/facebookresearch/dino (main_dino.py).
"""

from __future__ import annotations

from typing import Literal

import torch
from pydantic import Field, model_validator
from torch import Tensor, nn

from labbench import distributed, losses
from labbench.augment import ViewPipeline, denormalize
from labbench.augment.patches import grey_out, patch_mask_pixels, random_patch_mask
from labbench.config import FieldProblems, MethodConfig
from labbench.errors import ConfigError
from labbench.methods.base import PreviewPanel, to_panel_image, to_picture
from labbench.methods.momentum import MomentumMethod, frozen_copy
from labbench.models import DINOHead, VisionTransformer, build_backbone


class DINOConfig(MethodConfig):
    name: Literal["dino"] = "dino"
    out_dim: int = Field(65536, ge=2, le=262144, description="Prototypes K of the DINO head's output (paper: 65 536).")
    hidden_dim: int = Field(2048, ge=8, le=16384, description="Hidden size of the head's MLP (paper: 2048).")
    bottleneck_dim: int = Field(256, ge=8, le=4096, description="Size of the L2-normalised bottleneck (paper: 256).")
    norm_last_layer: bool = Field(
        True, description="Keep the last layer's prototypes at unit length (paper: on; stabilises ViT training)."
    )
    momentum_teacher: float = Field(
        0.996, ge=0.0, le=1.0, description="Teacher EMA momentum at the start; rises to 1 along a cosine (paper: 0.996)."
    )
    teacher_temp: float = Field(0.04, gt=0.0, le=1.0, description="Teacher temperature after the warm-up (paper: 0.04).")
    warmup_teacher_temp: float = Field(
        0.04, gt=0.0, le=1.0, description="Teacher temperature at the start of the warm-up (paper: 0.04)."
    )
    warmup_teacher_temp_epochs: float = Field(
        30.0, ge=0.0, le=10000.0, description="Epochs of the linear teacher-temperature warm-up (paper: 30)."
    )
    student_temp: float = Field(0.1, gt=0.0, le=1.0, description="Student temperature (paper: 0.1).")
    center_momentum: float = Field(
        0.9, ge=0.0, le=1.0,
        description="Momentum of the running centre of the teacher's outputs (paper: 0.9); 1 = no centring "
        "(the centre stays at zero, the ablation of the paper's Fig. 7).",
    )
    freeze_last_layer: int = Field(
        1, ge=0, le=1000, description="Epochs at the start during which the head's last layer is not updated (paper: 1)."
    )
    global_crops_scale: tuple[float, float] = Field(
        (0.4, 1.0), description="Area share range of the two global crops (paper: 0.4–1)."
    )
    local_crops_number: int = Field(8, ge=0, le=32, description="Number of small local crops K (paper: 8).")
    local_crops_scale: tuple[float, float] = Field(
        (0.05, 0.4), description="Area share range of the local crops (paper: 0.05–0.4)."
    )
    local_crops_size: float = Field(
        96 / 224, gt=0.0, le=1.0, description="Side of a local crop as a share of the image size (paper: 96 of 224 px)."
    )
    ibot_weight: float = Field(
        0.0, ge=0.0, le=10.0, description="Weight of the iBOT masked patch loss (0 = off, plain DINO; DINOv2: 1)."
    )
    ibot_out_dim: int = Field(8192, ge=2, le=262144, description="Prototypes of the patch head (iBOT: 8192).")
    ibot_mask_ratio: tuple[float, float] = Field(
        (0.1, 0.5), description="Range of the share of patches masked in a masked global crop (iBOT/DINOv2: 0.1–0.5)."
    )
    ibot_mask_probability: float = Field(
        0.5, ge=0.0, le=1.0, description="Chance that a global crop is masked at all (DINOv2: 0.5)."
    )

    @model_validator(mode="after")
    def _ranges(self) -> DINOConfig:
        for name in ("global_crops_scale", "local_crops_scale", "ibot_mask_ratio"):
            lo, hi = getattr(self, name)
            if not 0 <= lo <= hi <= 1 or hi == 0:
                raise FieldProblems((name, f"needs 0 <= low <= high <= 1 (got {lo}, {hi})"))
        return self


class DINONetwork(nn.Module):
    """Backbone + DINO head (+ the iBOT patch head): one copy is the student, an EMA copy the teacher."""

    def __init__(self, backbone: nn.Module, head: DINOHead, patch_head: DINOHead | None) -> None:
        super().__init__()
        self.backbone = backbone
        self.head = head
        self.patch_head = patch_head


def local_crop_size(image_size: int, share: float, granularity: int) -> int:
    """The local crops' side: ``share`` of the image, rounded to whole ViT patches (``granularity``)."""
    return max(granularity, round(image_size * share / granularity) * granularity)


def masked_tokens(vit: VisionTransformer, x: Tensor, mask: Tensor, mask_token: Tensor) -> Tensor:
    """The ViT's tokens B×(1+N)×D with the patch embeddings under ``mask`` (B×N) replaced by ``mask_token``.

    iBOT's ``masked_embed`` (Zhou et al. 2022, §3.2): the replacement happens before the position
    embeddings are added, so a masked token still knows where it is. Done with a forward hook on
    the patch embedding, so the shared ViT needs no mask-token parameter of its own.
    """
    grid = vit.grid_size

    def replace(module: nn.Module, inputs: tuple[Tensor], out: Tensor) -> Tensor:
        where = mask.reshape(-1, 1, grid, grid)
        return torch.where(where, mask_token.to(out.dtype).reshape(1, -1, 1, 1), out)

    handle = vit.patch_embed.register_forward_hook(replace)
    try:
        return vit.forward_tokens(x)
    finally:
        handle.remove()


class DINO(MomentumMethod):
    Config = DINOConfig
    paper = "Caron et al. Emerging Properties in Self-Supervised Vision Transformers. ICCV 2021."
    summary = "A student matches a centred, sharpened EMA teacher across global and local crops; no labels, no negatives."

    def __init__(self, cfg: DINOConfig, backbone_cfg, augment, image_size):
        super().__init__(cfg, backbone_cfg, augment, image_size)
        backbone = build_backbone(backbone_cfg, image_size)
        self.use_ibot = cfg.ibot_weight > 0
        if self.use_ibot and not backbone_cfg.is_vit:
            raise ConfigError(
                f"method.ibot_weight: the masked patch loss needs a ViT's patch tokens; backbone.name is "
                f"{backbone_cfg.name!r} (set ibot_weight = 0 or pick a ViT)"
            )
        dim = backbone.feature_dim

        def head(out_dim: int) -> DINOHead:
            return DINOHead(dim, out_dim, cfg.hidden_dim, cfg.bottleneck_dim, norm_last_layer=cfg.norm_last_layer)

        self.student = DINONetwork(backbone, head(cfg.out_dim), head(cfg.ibot_out_dim) if self.use_ibot else None)
        self.teacher = frozen_copy(self.student)
        self.mask_token = nn.Parameter(torch.zeros(dim)) if self.use_ibot else None
        self.register_buffer("center", torch.zeros(cfg.out_dim))
        self.register_buffer("patch_center", torch.zeros(cfg.ibot_out_dim) if self.use_ibot else None)

        self.global_pipelines = (
            ViewPipeline(augment, image_size, crop_scale=cfg.global_crops_scale, blur_p=1.0, solarize_p=0.0),
            ViewPipeline(augment, image_size, crop_scale=cfg.global_crops_scale, blur_p=0.1, solarize_p=0.2),
        )
        self.local_size = local_crop_size(image_size, cfg.local_crops_size, backbone_cfg.side_multiple)
        self.local_pipeline = ViewPipeline(augment, self.local_size, crop_scale=cfg.local_crops_scale, blur_p=0.5)

        self.start_momentum(cfg.momentum_teacher, cosine=True)
        self._teacher_temp = self.teacher_temperature(0.0)

    @property
    def encoder(self) -> nn.Module:
        """The teacher's backbone: DINO evaluates and releases the teacher, which beats the student throughout training (Fig. 6)."""
        return self.teacher.backbone

    # -- schedules ------------------------------------------------------------------------------

    def teacher_temperature(self, epoch: float) -> float:
        """Linear warm-up from ``warmup_teacher_temp`` to ``teacher_temp`` over the first epochs, then constant."""
        cfg = self.cfg
        if epoch >= cfg.warmup_teacher_temp_epochs:
            return cfg.teacher_temp
        return cfg.warmup_teacher_temp + (cfg.teacher_temp - cfg.warmup_teacher_temp) * epoch / cfg.warmup_teacher_temp_epochs

    def before_step(self, epoch: float) -> None:
        self._teacher_temp = self.teacher_temperature(epoch)

    # -- views ----------------------------------------------------------------------------------

    def make_views(self, images: Tensor, g: torch.Generator) -> dict[str, Tensor]:
        """Two global crops, K local crops and, with iBOT, the student's patch mask of the global crops (2B×N)."""
        views = {f"global_{i}": pipe(images, g) for i, pipe in enumerate(self.global_pipelines, start=1)}
        for i in range(1, self.cfg.local_crops_number + 1):
            views[f"local_{i}"] = self.local_pipeline(images, g)
        if self.use_ibot:
            n = 2 * len(images)
            lo, hi = self.cfg.ibot_mask_ratio
            u = torch.rand(2, n, generator=g, device=g.device)
            ratio = torch.where(u[0] < self.cfg.ibot_mask_probability, lo + (hi - lo) * u[1], 0.0)
            views["patch_mask"] = random_patch_mask(n, self.student.backbone.num_patches, ratio, g)
        return views

    # -- forward --------------------------------------------------------------------------------

    def training_step(self, images: Tensor, g: torch.Generator) -> tuple[Tensor, dict[str, Tensor]]:
        views = self.make_views(images, g)
        k = self.cfg.local_crops_number
        global_crops = torch.cat([views["global_1"], views["global_2"]])
        temp = self._teacher_temp

        # the teacher sees the global crops only
        with torch.no_grad():
            if self.use_ibot:
                teacher_tokens = self.teacher.backbone.forward_tokens(global_crops)
                teacher_out = self.teacher.head(teacher_tokens[:, 0])
                teacher_patches = self.teacher.patch_head(teacher_tokens[:, 1:])
            else:
                teacher_out = self.teacher.head(self.teacher.backbone(global_crops))

        # the student sees every view; crops of one size go through the backbone together
        if self.use_ibot:
            student_tokens = masked_tokens(self.student.backbone, global_crops, views["patch_mask"], self.mask_token)
            student_global = student_tokens[:, 0]
        else:
            student_global = self.student.backbone(global_crops)
        features = [student_global]
        if k:
            features.append(self.student.backbone(torch.cat([views[f"local_{i}"] for i in range(1, k + 1)])))
        student_out = self.student.head(torch.cat(features))

        # -- loss: every teacher global crop against every other student view, then the centre moves
        cfg = self.cfg
        loss = losses.dino_loss(student_out.chunk(2 + k), teacher_out.chunk(2), self.center, cfg.student_temp, temp)
        with torch.no_grad():
            probs = losses.teacher_distribution(teacher_out, self.center, temp)
            entropy = -(probs * probs.clamp_min(1e-12).log()).sum(dim=-1).mean()
            # the loss averages H(P_t, P_s) over pairs that use each teacher crop equally often: minus H(P_t) is the KL
            metrics = {"teacher_entropy": entropy, "kl": loss.detach() - entropy}
        if self.use_ibot:
            patch_loss = losses.ibot_patch_loss(
                self.student.patch_head(student_tokens[:, 1:]), teacher_patches, views["patch_mask"],
                self.patch_center, cfg.student_temp, temp,
            )
            metrics["dino_loss"] = loss.detach()
            metrics["ibot_loss"] = patch_loss.detach()
            loss = loss + cfg.ibot_weight * patch_loss
            self._update_center(self.patch_center, teacher_patches)
        self._update_center(self.center, teacher_out)
        metrics["center_norm"] = self.center.norm()
        metrics["teacher_temp"] = torch.tensor(temp)
        return loss, metrics

    @torch.no_grad()
    def _update_center(self, center: Tensor, teacher_out: Tensor) -> None:
        """c ← m·c + (1−m)·mean of this step's teacher outputs, the mean taken over every process."""
        center.copy_(distributed.all_reduce_mean(losses.update_center(center, teacher_out.float(), self.cfg.center_momentum)))

    # -- updates around the optimiser step --------------------------------------------------------

    def before_optimizer_step(self, epoch: float) -> None:
        """During the first ``freeze_last_layer`` epochs the heads' last layers get no update (main_dino.py)."""
        if epoch < self.cfg.freeze_last_layer:
            for head in (self.student.head, self.student.patch_head):
                if head is not None:
                    for p in head.last_layer.parameters():
                        p.grad = None

    def ema_pairs(self) -> list[tuple[nn.Module, nn.Module]]:
        return [(self.teacher, self.student)]

    # -- inspection -----------------------------------------------------------------------------

    @torch.no_grad()
    def last_attention(self, images: Tensor) -> Tensor:
        """B×heads×N: how the teacher's CLS token attends to each patch in the last block (the paper's Fig. 1).

        ``images``: normalised B×3×H×W (the eval transform's output). Needs a ViT backbone.
        """
        if not self.backbone_cfg.is_vit:
            raise ConfigError(f"backbone.name: attention maps need a ViT backbone (this DINO run uses {self.backbone_cfg.name!r})")
        return self.teacher.backbone.last_attention(images)[:, :, 0, 1:]

    def preview(self, image: Tensor, g: torch.Generator) -> list[PreviewPanel]:
        """Both global crops (and, with iBOT, the first as the student sees it) and every local crop."""
        views = self.make_views(image[None], g)
        k = self.cfg.local_crops_number
        panels = [
            PreviewPanel(
                f"global crop {i} — {self.image_size} px, {pipe.crop_scale[0]:.0%}–{pipe.crop_scale[1]:.0%} of the image, "
                f"blur p {pipe.blur_p:g}, solarize p {pipe.solarize_p:g}; teacher and student",
                to_panel_image(views[f"global_{i}"][0]),
                group="global crops",
            )
            for i, pipe in enumerate(self.global_pipelines, start=1)
        ]
        if self.use_ibot:
            backbone = self.student.backbone
            mask = views["patch_mask"][:1]  # grey where the student sees the mask token instead
            crop = denormalize(views["global_1"][:1]).clamp(0, 1)
            masked = grey_out(crop, patch_mask_pixels(mask, backbone.patch_size))
            panels.append(PreviewPanel(
                f"global crop 1 as the student sees it — {int(mask.sum())} of {backbone.num_patches} patches masked (iBOT)",
                to_picture(masked[0]),
                group="masked",
            ))
        lo, hi = self.local_pipeline.crop_scale
        panels += [
            PreviewPanel(
                f"local crop {i} of {k} — {self.local_size} px, {lo:.0%}–{hi:.0%} of the image; student only",
                to_panel_image(views[f"local_{i}"][0]),
                group="local crops",
            )
            for i in range(1, k + 1)
        ]
        return panels
