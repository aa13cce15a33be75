"""Context encoders: feature learning by inpainting (Pathak, Krähenbühl, Donahue, Darrell, Efros.
Context Encoders: Feature Learning by Inpainting. CVPR 2016).

A region of the image is blanked out (the central square, a quarter of the area, or random blocks)
and an encoder–decoder paints it back from the context around it. The encoder is the backbone's
spatial feature map; a small decoder of transposed convolutions upsamples it to the image. The loss
is the L2 distance on the masked pixels only, optionally joined by an adversarial loss from a small
discriminator (the paper: 0.999·L2 + 0.001·adversarial), which makes the paintings sharp instead of
the blurry mean of the plausible fills. Reference code: github.com/pathak22/context-encoder.

Simplifications, each small: the masked region is predicted without the paper's 4-px overlap ring
(whose L2 the paper weights 10×), no channel-wise fully connected bottleneck, and the discriminator
judges the whole completed image (the paper's judges the filled region).
"""

from __future__ import annotations

import copy
import math
from typing import Literal

import torch
import torch.nn.functional as F
from pydantic import Field
from torch import Tensor, nn

from labbench import distributed, losses
from labbench.augment import denormalize, normalize
from labbench.augment.pretext import center_mask, crop_flip, random_block_mask
from labbench.config import MethodConfig
from labbench.methods.base import Method, PreviewPanel, to_picture
from labbench.methods.dense import feature_map, feature_map_shape
from labbench.models import build_backbone
from labbench.models.modes import eval_mode


class InpaintingConfig(MethodConfig):
    name: Literal["inpainting"] = "inpainting"
    mask: Literal["center", "random_blocks"] = Field(
        "center", description="Region to paint: the central square, or random (possibly overlapping) squares."
    )
    mask_ratio: float = Field(
        0.25, gt=0.0, lt=1.0, description="Share of the image that is masked (paper: the central quarter)."
    )
    num_blocks: int = Field(
        4, ge=1, le=64, description="random_blocks: number of squares, each mask_ratio / num_blocks of the image."
    )
    reconstruction_weight: float = Field(
        0.999, gt=0.0, le=1.0, description="Weight of the masked L2 loss (paper: 0.999)."
    )
    adversarial_weight: float = Field(
        0.001, ge=0.0, le=1.0,
        description="Weight of the adversarial loss (paper: 0.001); 0 trains without a discriminator.",
    )
    discriminator_lr: float = Field(
        2e-4, gt=0.0, le=1.0, description="Adam learning rate of the discriminator (paper: DCGAN's 2e-4, β1 = 0.5)."
    )


def _decoder(channels: int, side: int, image_size: int) -> nn.Sequential:
    """Transposed 4×4 stride-2 convolutions (BN, ReLU) that double the map until it covers the image,
    halving the channels, then a 3×3 convolution to RGB (Pathak's decoder, scaled down)."""
    layers: list[nn.Module] = []
    for _ in range(max(0, math.ceil(math.log2(image_size / side)))):
        out = max(channels // 2, 16)
        layers += [nn.ConvTranspose2d(channels, out, 4, stride=2, padding=1, bias=False), nn.BatchNorm2d(out),
                   nn.ReLU(inplace=True)]
        channels = out
    layers.append(nn.Conv2d(channels, 3, 3, padding=1))
    return nn.Sequential(*layers)


class Discriminator(nn.Module):
    """The adversary: strided 4×4 convolutions with LeakyReLU(0.2) (DCGAN's), one logit per image.

    It trains itself with its own Adam (DCGAN's β1 = 0.5) inside the method's training step; the
    optimiser's state travels in the method's state_dict as this module's extra state, so checkpoints
    and exact resume keep it.
    """

    def __init__(self, image_size: int, lr: float, width: int = 32) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        channels, side = 3, image_size
        while side > 4:
            layers += [nn.Conv2d(channels, width, 4, stride=2, padding=1), nn.LeakyReLU(0.2, inplace=True)]
            channels, width, side = width, width * 2, side // 2
        layers.append(nn.Conv2d(channels, 1, 3, padding=1))
        self.net = nn.Sequential(*layers)
        self.optimizer = torch.optim.Adam(self.parameters(), lr=lr, betas=(0.5, 0.999))

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x).mean(dim=(1, 2, 3))

    def update(self, real: Tensor, fake: Tensor) -> Tensor:
        """One step of the discriminator: real images -> 1, completed ones -> 0. Returns its loss."""
        with torch.enable_grad():
            real_logits, fake_logits = self(real).float(), self(fake.detach()).float()
            loss = (F.binary_cross_entropy_with_logits(real_logits, torch.ones_like(real_logits))
                    + F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits)))
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        for p in self.parameters():
            p.grad = distributed.all_reduce_mean(p.grad)
        self.optimizer.step()
        self.optimizer.zero_grad(set_to_none=True)  # keeps its gradients out of the trainer's clipping
        return loss.detach()

    def fooling_loss(self, fake: Tensor) -> Tensor:
        """The painter's adversarial loss, −log D(completed) (non-saturating); gradients reach only ``fake``."""
        self.requires_grad_(False)
        try:
            logits = self(fake).float()
        finally:
            self.requires_grad_(True)
        return F.binary_cross_entropy_with_logits(logits, torch.ones_like(logits))

    def get_extra_state(self) -> dict:
        return self.optimizer.state_dict()

    def set_extra_state(self, state: dict) -> None:
        # copied, as load_state_dict copies weights: Adam would otherwise share its moments with ``state``
        self.optimizer.load_state_dict(copy.deepcopy(state))


class Inpainting(Method):
    Config = InpaintingConfig
    paper = (
        "Pathak, Krähenbühl, Donahue, Darrell, Efros. Context Encoders: Feature Learning by Inpainting. CVPR 2016."
    )
    summary = "Blank out the centre of the image and paint it back from the context (L2, optionally adversarial)."

    def __init__(self, cfg: InpaintingConfig, backbone_cfg, augment, image_size):
        super().__init__(cfg, backbone_cfg, augment, image_size)
        self.encoder = build_backbone(backbone_cfg, image_size)
        self.decoder = _decoder(*feature_map_shape(self.encoder, image_size), image_size)
        self.discriminator = None
        if cfg.adversarial_weight > 0:
            self.discriminator = Discriminator(image_size, cfg.discriminator_lr)
            # DDP must neither synchronise nor wait for the discriminator's gradients: it steps on its
            # own, inside the forward, and averages its gradients itself.
            self._ddp_params_and_buffers_to_ignore = [
                f"discriminator.{name}" for name, _ in self.discriminator.named_parameters()
            ]

    def param_groups(self, weight_decay: float) -> list[dict]:
        """The trainer's optimiser gets everything but the discriminator, which has its own."""
        own = set() if self.discriminator is None else {id(p) for p in self.discriminator.parameters()}
        groups = super().param_groups(weight_decay)
        return [{**group, "params": [p for p in group["params"] if id(p) not in own]} for group in groups]

    # -- views: a crop, the mask, and the crop with the mask filled by the mean (0 after normalising)

    def _mask(self, n: int, ratio: float, g: torch.Generator) -> Tensor:
        if self.cfg.mask == "center":
            return center_mask(n, self.image_size, ratio, g.device)
        return random_block_mask(n, self.image_size, ratio, self.cfg.num_blocks, g)

    def make_views(self, images: Tensor, g: torch.Generator) -> dict[str, Tensor]:
        image = normalize(crop_flip(images, self.image_size, self.augment, g))
        mask = self._mask(image.shape[0], self.cfg.mask_ratio, g)
        return {"image": image, "mask": mask, "masked": image.masked_fill(mask, 0.0)}

    # -- forward: encoder feature map -> decoder -> the painted image ------------------------------

    def paint(self, masked: Tensor) -> Tensor:
        """The decoder's image (normalised, like its input) from the masked image."""
        out = self.decoder(feature_map(self.encoder, masked))
        if out.shape[-1] != self.image_size:
            out = F.interpolate(out, size=(self.image_size, self.image_size), mode="bilinear", align_corners=False)
        return out

    # -- loss: L2 on the masked pixels (+ the adversary's verdict on the completed image) ----------

    def training_step(self, images: Tensor, g: torch.Generator) -> tuple[Tensor, dict[str, Tensor]]:
        views = self.make_views(images, g)
        image, mask = views["image"], views["mask"]
        painted = self.paint(views["masked"])
        l2 = _masked_l2(painted, image, mask)
        loss = self.cfg.reconstruction_weight * l2
        metrics = {"masked_l2": l2.detach()}
        if self.discriminator is not None:
            completed = torch.where(mask, painted, image)
            metrics["discriminator_loss"] = self.discriminator.update(image, completed)
            adversarial = self.discriminator.fooling_loss(completed)
            loss = loss + self.cfg.adversarial_weight * adversarial
            metrics["adversarial_loss"] = adversarial.detach()
        return loss, metrics

    # -- looking at the paintings -------------------------------------------------------------------

    def reconstruct(self, images: Tensor, mask_ratio: float | None = None,
                    g: torch.Generator | None = None) -> dict[str, Tensor]:
        """Mask and paint normalised images B×3×H×W (the eval transform's output) for the inspector.

        Pictures in [0, 1], B×3×H×W: ``original``, ``masked`` (the input, masked region at the mean),
        ``reconstruction`` (the decoder's whole image) and ``pasted`` (the painting inside the mask,
        the original around it); ``mask`` B×H×W bool; ``per_image_loss`` B, each image's masked L2.
        """
        ratio = self.cfg.mask_ratio if mask_ratio is None else mask_ratio
        if g is None:
            g = torch.Generator(device=images.device).manual_seed(0)
        mask = self._mask(images.shape[0], ratio, g)
        masked = images.masked_fill(mask, 0.0)
        painted = self.paint(masked).float()
        per_image = torch.stack([_masked_l2(p[None], x[None], m[None]) for p, x, m in zip(painted, images, mask)])
        original = denormalize(images).clamp(0, 1)
        reconstruction = denormalize(painted).clamp(0, 1)
        return {
            "original": original,
            "masked": denormalize(masked).clamp(0, 1),
            "reconstruction": reconstruction,
            "pasted": torch.where(mask, reconstruction, original),
            "mask": mask[:, 0],
            "per_image_loss": per_image,
        }

    def preview(self, image: Tensor, g: torch.Generator) -> list[PreviewPanel]:
        view = normalize(crop_flip(image[None], self.image_size, self.augment, g))
        with eval_mode(self), torch.no_grad():
            out = self.reconstruct(view, g=g)
        return [
            PreviewPanel("masked input", to_picture(out["masked"][0]), group="masked"),
            PreviewPanel("target", to_picture(out["original"][0]), group="target"),
            PreviewPanel("reconstruction (painted region pasted in)", to_picture(out["pasted"][0]),
                         group="reconstruction"),
        ]


def _masked_l2(painted: Tensor, image: Tensor, mask: Tensor) -> Tensor:
    """Squared error averaged over the masked pixels only. Per pixel (B×HW×3 values, the mask B×HW),
    MAE's loss is exactly that masked mean."""
    return losses.mae_loss(_pixels(painted.float()), _pixels(image), mask.flatten(1))


def _pixels(x: Tensor) -> Tensor:
    """B×C×H×W -> B×(H·W)×C."""
    return x.flatten(2).transpose(1, 2)
