"""Look inside and measure a model: the protocols' parts and the arrays behind every inspector (no Qt here).

Functions of a model and images, below the engine: the trainer measures with them every epoch
(k-NN, collapse signals, probe files). Scoring a finished run's folder into ``eval.json`` is
``labbench.scoring``; rebuilding its method from the checkpoint is ``labbench.engine.checkpointed``.

- ``features``, ``knn``, ``linear_probe``, ``finetune``, ``baselines``: the protocols and what they must beat
- ``projection``: PCA / t-SNE / UMAP maps of features, nearest-neighbour retrieval
- ``attention``: ViT CLS→patch attention, DINO's mass threshold, Jaccard against object masks
- ``reconstruction``: MAE's original | masked | reconstruction | pasted
- ``collapse``: the collapse dashboard's numbers, histograms and verdict; per-epoch history
- ``affinity``: SimCLR's 2N×2N similarity matrix of a real batch
- ``probes``: the per-epoch ``probes/epoch-XXXX.npz`` files the trainer writes

Long calls take ``progress(done, total) -> bool``; returning False cancels with ``InterruptedError``.
"""
