"""ModelGroup: the ``[model]`` table — network kind, epochs, patience and the training device.

Keys without a widget (fixed hyperparameters such as ``optimizer = "adam"``, ``amp``,
``cuda_graphs``) are passed through and listed under the form; a key is written only if the
loaded table had it or its value differs from the default.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtGui import QStandardItemModel
from PySide6.QtWidgets import QComboBox, QFormLayout, QGroupBox, QLabel, QSpinBox, QWidget

from hpo_desktop.training.params import ALL_PARAMS

from .look import hbox, select, set_tone, shrinkable
from .trainer_info import TrainerInfo

DEVICES = ("auto", "cpu", "cuda", "mps")
MODEL_KINDS = {"mlp": "MLP — multilayer perceptron", "cnn": "CNN — convolutional network (image data only)"}
MODEL_DEFAULTS: dict[str, Any] = {
    "kind": "mlp",
    "device": "auto",
    "epochs": ALL_PARAMS["epochs"].default,
    "patience": ALL_PARAMS["patience"].default,
}
DETECTING = "Detecting the device…"


class ModelGroup(QGroupBox):
    """``changed`` fires on user edits only (not on :meth:`set_model`)."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Model", parent)
        self._given: dict[str, Any] = {}
        self._info: TrainerInfo | None = None
        self._image = False
        self._loading = False

        form = QFormLayout(self)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.kind_combo = QComboBox(self)
        shrinkable(self.kind_combo)
        for kind, label in MODEL_KINDS.items():
            self.kind_combo.addItem(label, kind)
        form.addRow("Network", self.kind_combo)

        self.epochs_spin = QSpinBox(self)
        self.epochs_spin.setRange(1, 100_000)
        self.epochs_spin.setToolTip(
            ALL_PARAMS["epochs"].help + " (an 'epochs' in the search space overrides it)"
        )
        self.patience_spin = QSpinBox(self)
        self.patience_spin.setRange(0, 100_000)
        self.patience_spin.setSpecialValueText("off")
        self.patience_spin.setToolTip(ALL_PARAMS["patience"].help)
        form.addRow(
            "Epochs", hbox(self, self.epochs_spin, QLabel("Patience"), self.patience_spin, stretch=True)
        )

        self.device_combo = QComboBox(self)
        self.device_combo.addItems(DEVICES)
        self.device_combo.setToolTip("auto: CUDA, then Apple MPS, then the CPU")
        self.device_label = QLabel(DETECTING, self)
        self.device_label.setObjectName("deviceLabel")
        set_tone(self.device_label, "muted")
        form.addRow("Device", hbox(self, self.device_combo, self.device_label, stretch=True))

        self.extra_label = QLabel(self)
        self.extra_label.setWordWrap(True)
        set_tone(self.extra_label, "muted")
        form.addRow(self.extra_label)

        self.kind_combo.currentIndexChanged.connect(self._emit)
        self.epochs_spin.valueChanged.connect(self._emit)
        self.patience_spin.valueChanged.connect(self._emit)
        self.device_combo.currentIndexChanged.connect(self._emit)

    # -- API ---------------------------------------------------------------------------------
    def set_model(self, d: Mapping[str, Any]) -> None:
        self._loading = True
        try:
            self._given = dict(d)
            select(self.kind_combo, str(d.get("kind", "mlp")))
            self.epochs_spin.setValue(int(d.get("epochs", MODEL_DEFAULTS["epochs"])))
            self.patience_spin.setValue(int(d.get("patience", MODEL_DEFAULTS["patience"])))
            select(self.device_combo, str(d.get("device", "auto")), data_role=False)
        finally:
            self._loading = False
        self._refresh()

    def model_dict(self) -> dict[str, Any]:
        values = {
            "kind": self.kind_combo.currentData(),
            "device": self.device_combo.currentText(),
            "epochs": self.epochs_spin.value(),
            "patience": self.patience_spin.value(),
        }
        out = {k: v for k, v in values.items() if k in self._given or v != MODEL_DEFAULTS[k]}
        out.update({k: v for k, v in self._given.items() if k not in MODEL_DEFAULTS})
        return out

    def set_image_data(self, image: bool) -> None:
        """Whether the data are images: the CNN is offered only then."""
        self._image = image
        self._refresh()

    def problems(self) -> list[str]:
        out: list[str] = []
        if self.kind_combo.currentData() == "cnn" and not self._image:
            out.append(
                "[model] a CNN needs image data (the digits data set, or an .npz of images); choose MLP"
            )
        device, info = self.device_combo.currentText(), self._info
        if info is not None and not info.error:
            if device.startswith("cuda") and not info.cuda:
                out.append(f"[model] device '{device}': no CUDA GPU is visible here; choose auto or cpu")
            elif device == "mps" and not info.mps:
                out.append(
                    "[model] device 'mps': Apple's Metal backend is not available here; choose auto or cpu"
                )
        return out

    def set_trainer_info(self, info: TrainerInfo) -> None:
        self._info = info
        self._refresh()

    # -- reactions ---------------------------------------------------------------------------
    def _emit(self, *_args: Any) -> None:
        if not self._loading:
            self._refresh()
            self.changed.emit()

    def _refresh(self) -> None:
        item_model = self.kind_combo.model()
        if isinstance(item_model, QStandardItemModel):
            item = item_model.item(self.kind_combo.findData("cnn"))
            if item is not None:
                item.setEnabled(self._image or self.kind_combo.currentData() == "cnn")
        extra = {k: v for k, v in self._given.items() if k not in MODEL_DEFAULTS}
        self.extra_label.setText(
            ("Also set in [model]: " + ", ".join(f"{k} = {v!r}" for k, v in extra.items())) if extra else ""
        )
        self.extra_label.setVisible(bool(extra))
        self._refresh_device()

    def _refresh_device(self) -> None:
        info = self._info
        device = self.device_combo.currentText()
        if info is None:
            text, tone = DETECTING, "muted"
        elif info.error:
            text, tone = f"cannot ask PyTorch: {info.error}", "error"
        elif device == "auto":
            text, tone = f"will use {info.device}", "ok"
        elif device == "cpu":
            text, tone = "the CPU", "normal"
        elif device.startswith("cuda"):
            text, tone = ("CUDA GPU found", "ok") if info.cuda else ("⚠ no CUDA GPU here", "error")
        elif device == "mps":
            text, tone = (
                ("Apple MPS found", "ok") if info.mps else ("⚠ Apple MPS not available here", "error")
            )
        else:
            text, tone = "", "normal"
        self.device_label.setText(text)
        set_tone(self.device_label, tone)
