"""Chapter 08's co-design study behind one call: every simulated configuration on the energy–accuracy plane, the
standard baseline, the choice under a declared accuracy constraint and the Pareto front (:func:`codesign_study`)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from effdl.core.footprint import pareto_front
from effdl.hardware.edram._views import codesign_energy, lowest_energy_meeting

Arch = tuple[int, int, int]  # (channels, depth, stem stride)


@dataclass(frozen=True)
class CodesignStudy:
    """What :func:`codesign_study` finds. Energies in µJ per training sample, accuracies in %.

    - ``points``: one dict per simulated reversible + eDRAM configuration: ``config``, ``kind``, ``arch``,
      ``batch``, ``energy_uj_per_sample``, ``val_accuracy``, ``test_accuracy``, ``refresh_free``,
      ``same_net_ratio`` (its standard twin on SRAM / itself, same batch) and ``twin_sram_uj_per_sample``;
    - ``baseline``: the standard model on SRAM at its lowest-energy batch ``base_batch``;
    - ``chosen``: the lowest-energy point meeting the constraint (``constraint_met``), else the most accurate;
    - ``saving``: baseline energy / chosen energy (bank refresh), ``saving_tensor_refresh`` the same with per-tensor
      refresh, ``network_factor`` baseline / the chosen configuration's standard twin on SRAM (so ``saving =
      network_factor × chosen["same_net_ratio"]``);
    - ``everything``: ``points`` and the baseline; ``front``: the configs on the Pareto front (lowest energy,
      highest validation accuracy); ``n_meet``: how many points meet the constraint.
    """

    points: list[dict[str, Any]]
    baseline: dict[str, Any]
    base_batch: int
    chosen: dict[str, Any]
    constraint_met: bool
    saving: float
    saving_tensor_refresh: float
    network_factor: float
    everything: list[dict[str, Any]]
    front: list[str]
    n_meet: int


def codesign_study(
    sim: Mapping[tuple[int, int, int, int], Mapping[str, Any]],
    scores: Mapping[Arch, Mapping[str, float]],
    *,
    baseline_arch: Arch,
    baseline_accuracy: tuple[float, float],
    min_accuracy: float,
    kinds: Mapping[Arch, str] | None = None,
) -> CodesignStudy:
    """Put every co-design configuration on the energy–accuracy plane and choose under a declared constraint.

    ``sim``: ``(channels, depth, stem_stride, batch)`` -> :func:`codesign_energy` row; ``scores``: ``(channels,
    depth, stem_stride)`` -> ``{"val_accuracy", "test_accuracy"}`` (%) of the trained RevNet of that architecture
    (every architecture in ``sim``). The baseline is the standard twin of ``baseline_arch`` on SRAM at the batch
    where its energy per sample is lowest, with ``baseline_accuracy`` = (validation, test) accuracy of the trained
    standard model. The choice (:func:`lowest_energy_meeting`) uses validation accuracy ≥ ``min_accuracy``; the test
    accuracy only reports. ``kinds`` labels architectures (default ``"swept RevNet"``)."""
    if not sim:
        raise ValueError("sim is empty: simulate at least one configuration with codesign_energy")
    if isinstance(min_accuracy, bool) or not isinstance(min_accuracy, int | float) or math.isnan(min_accuracy):
        raise TypeError(f"min_accuracy must be a number (%), got {min_accuracy!r}")
    missing = sorted({key[:3] for key in sim} - set(scores))
    if missing:
        raise ValueError(f"scores has no accuracy for the architectures {missing}")
    batches = sorted(key[3] for key in sim if key[:3] == tuple(baseline_arch))
    if not batches:
        raise ValueError(f"baseline_arch {baseline_arch!r} was not simulated; sim has {sorted({k[:3] for k in sim})}")
    labels = dict(kinds or {})
    points = [
        {
            "config": r["config"],
            "kind": f"{labels.get(key[:3], 'swept RevNet')}, reversible + eDRAM",
            "arch": key[:3],
            "batch": key[3],
            "energy_uj_per_sample": r["rev_uj_per_sample"],
            "val_accuracy": scores[key[:3]]["val_accuracy"],
            "test_accuracy": scores[key[:3]]["test_accuracy"],
            "refresh_free": r["rev_refreshes"] == 0,
            "same_net_ratio": r["energy_ratio"],  # its standard twin on SRAM / reversible + eDRAM, same batch
            "twin_sram_uj_per_sample": r["sram_uj_per_sample"],
        }
        for key, r in sim.items()
    ]
    base_batch = min(batches, key=lambda b: sim[(*baseline_arch, b)]["sram_uj_per_sample"])
    base = sim[(*baseline_arch, base_batch)]
    baseline = {
        "config": f"PlainResNet {base['config']}",
        "kind": "standard model + SRAM (baseline)",
        "energy_uj_per_sample": base["sram_uj_per_sample"],
        "val_accuracy": baseline_accuracy[0],
        "test_accuracy": baseline_accuracy[1],
    }
    chosen = lowest_energy_meeting(points, min_accuracy=min_accuracy, accuracy="val_accuracy",
                                   energy="energy_uj_per_sample")  # fmt: skip
    constraint_met = chosen is not None
    if chosen is None:  # then report the most accurate configuration reached instead
        chosen = max(points, key=lambda p: (p["val_accuracy"], -p["energy_uj_per_sample"]))
    saving = baseline["energy_uj_per_sample"] / chosen["energy_uj_per_sample"]
    network_factor = baseline["energy_uj_per_sample"] / chosen["twin_sram_uj_per_sample"]
    chosen_tensor = codesign_energy(*chosen["arch"][:2], stem_stride=chosen["arch"][2], batch=chosen["batch"],
                                    refresh="tensor")  # fmt: skip
    saving_tensor_refresh = baseline["energy_uj_per_sample"] / chosen_tensor["rev_uj_per_sample"]
    everything = [*points, baseline]
    front = [everything[k]["config"] for k in pareto_front(
        [(p["energy_uj_per_sample"], p["val_accuracy"]) for p in everything], maximize=(False, True))]  # fmt: skip
    return CodesignStudy(
        points=points,
        baseline=baseline,
        base_batch=base_batch,
        chosen=chosen,  # type: ignore[arg-type]
        constraint_met=constraint_met,
        saving=saving,
        saving_tensor_refresh=saving_tensor_refresh,
        network_factor=network_factor,
        everything=everything,
        front=front,
        n_meet=sum(p["val_accuracy"] >= min_accuracy for p in points),
    )
