"""Forecasting (nowcasting): past frames -> future frames with a ConvLSTM encoder-forecaster.

:mod:`~seqvision.tasks.forecast.model` holds the network, :mod:`~seqvision.tasks.forecast.metrics` the scores
(MSE per frame, MAE, SSIM, CSI per lead time) and :mod:`~seqvision.tasks.forecast.render` the PNG strip
and animated GIF; the data readers are in :mod:`seqvision.data` (``moving_mnist``, ``arrays``,
``radar``) and the training task in :mod:`seqvision.tasks.forecast.task`.
"""
