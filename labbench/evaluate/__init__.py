"""Look inside and measure: evaluation protocols and the arrays behind every inspector (no Qt here).

- ``checkpointed``: a run's method rebuilt from its folder (finished or still running)
- ``features``, ``knn``, ``linear_probe``, ``finetune``, ``baselines``: the protocols and what they must beat
- ``protocols``: ``evaluate_run`` -> ``eval.json``, and the cross-run results table
- ``projection``: PCA / t-SNE / UMAP maps of features, nearest-neighbour retrieval
- ``attention``: ViT CLS→patch attention, DINO's mass threshold, Jaccard against object masks
- ``reconstruction``: MAE's original | masked | reconstruction | pasted
- ``collapse``: the collapse dashboard's numbers, histograms and verdict; per-epoch history
- ``affinity``: SimCLR's 2N×2N similarity matrix of a real batch
- ``probes``: the per-epoch ``probes/epoch-XXXX.npz`` files the trainer writes

Long calls take ``progress(done, total) -> bool``; returning False cancels with ``InterruptedError``.
"""
