"""DeepGAMINet: encoders, imputation of missing modalities, auxiliary loss."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from deepgami.nn import DeepGAMINet, DenseEncoder, GuidedEncoder, MLPMap, PerNodeMap, ScalarMap


def make_net(aux_map="scalar", n_modalities=2):
    torch.manual_seed(0)
    edge_index = torch.tensor([[0, 1, 2, 3, 4, 5], [0, 1, 2, 3, 4, 0]])
    encoders = {"snp": GuidedEncoder(6, 5, {"eqtl": edge_index})}
    for i in range(1, n_modalities):
        encoders[f"m{i}"] = DenseEncoder(4, 5)
    return DeepGAMINet(encoders, n_latent=5, n_classes=3, hidden_dims=(8,), dropout=0.0, aux_map=aux_map).eval()


@pytest.mark.parametrize("aux_map", ["scalar", "per_node", "mlp"])
def test_single_modality_prediction_never_reads_the_absent_modality(aux_map):
    net = make_net(aux_map)
    x_snp = torch.randn(4, 6)
    alone = net({"snp": x_snp})
    # absent modality passed but marked unobserved for every sample, with garbage values
    for garbage in (torch.randn(4, 4) * 100, torch.zeros(4, 4)):
        masked = net({"snp": x_snp, "m1": garbage}, observed={"m1": torch.zeros(4, dtype=torch.bool)})
        torch.testing.assert_close(masked, alone)
    both = net({"snp": x_snp, "m1": torch.randn(4, 4)})
    assert not torch.allclose(both, alone)


def test_imputation_uses_the_auxiliary_map():
    net = make_net("scalar")
    with torch.no_grad():
        net.aux_maps["snp__to__m1"].alpha.fill_(2.0)
        net.aux_maps["snp__to__m1"].beta.fill_(0.5)
    x = torch.randn(3, 6)
    z = net.encode({"snp": x})
    full = net.complete(z)
    torch.testing.assert_close(full["m1"], 2.0 * z["snp"] + 0.5)
    torch.testing.assert_close(full["snp"], z["snp"])


def test_per_sample_missingness_mixes_observed_and_imputed_rows():
    net = make_net("per_node", n_modalities=3)
    x = {"snp": torch.randn(4, 6), "m1": torch.randn(4, 4), "m2": torch.randn(4, 4)}
    observed = {"snp": torch.tensor([1, 1, 0, 1], dtype=torch.bool), "m1": torch.tensor([1, 0, 1, 1], dtype=torch.bool),
                "m2": torch.tensor([0, 0, 1, 1], dtype=torch.bool)}
    z = net.encode(x)
    full = net.complete(z, observed)
    # sample 1 has only snp: m1 and m2 are imputed from snp alone
    torch.testing.assert_close(full["m1"][1], net.aux_maps["snp__to__m1"](z["snp"][1:2])[0])
    # sample 0 lacks m2: the mean of the maps from snp and m1
    expected = (net.aux_maps["snp__to__m2"](z["snp"][:1]) + net.aux_maps["m1__to__m2"](z["m1"][:1])) / 2
    torch.testing.assert_close(full["m2"][0], expected[0])
    torch.testing.assert_close(full["m2"][3], z["m2"][3])
    # an unobserved row's input does not change the output
    changed = dict(x, m2=x["m2"].clone())
    changed["m2"][0] += 50.0
    torch.testing.assert_close(net(changed, observed)[0], net(x, observed)[0])


def test_auxiliary_loss_counts_only_samples_with_both_modalities():
    net = make_net("scalar")
    x = {"snp": torch.randn(5, 6), "m1": torch.randn(5, 4)}
    observed = {"snp": torch.ones(5, dtype=torch.bool), "m1": torch.tensor([1, 1, 0, 0, 0], dtype=torch.bool)}
    z = net.encode(x)
    loss = net.auxiliary_loss(z, observed)
    a, b = z["snp"][:2], z["m1"][:2]
    expected = torch.mean((net.aux_maps["snp__to__m1"](a) - b) ** 2) + torch.mean((net.aux_maps["m1__to__snp"](b) - a) ** 2)
    torch.testing.assert_close(loss, expected)


def test_errors():
    net = make_net()
    with pytest.raises(ValueError, match="at least one"):
        net({})
    with pytest.raises(KeyError, match="unknown modalities"):
        net({"rna": torch.randn(2, 3)})
    with pytest.raises(ValueError, match="at least one observed"):
        net({"snp": torch.randn(2, 6)}, observed={"snp": torch.tensor([True, False])})
    with pytest.raises(ValueError, match="at least one modality"):
        DeepGAMINet({}, 2, 2)


def test_auxiliary_maps_shapes_and_identity_start():
    z = torch.randn(4, 3, 7)  # (samples, members, latent nodes)
    for cls in (ScalarMap, PerNodeMap):
        torch.testing.assert_close(cls(7, n_members=3)(z), z)  # alpha=1, beta=0 at start
    mlp = MLPMap(7, n_members=3)
    assert mlp(z).shape == (4, 3, 7)
    # member k's output depends on member k's latents only
    changed = z.clone()
    changed[:, 1] += 5.0
    out, out_changed = mlp(z), mlp(changed)
    torch.testing.assert_close(out[:, [0, 2]], out_changed[:, [0, 2]])
    assert not torch.allclose(out[:, 1], out_changed[:, 1])


def test_edge_l1_is_the_absolute_sum_of_the_dense_masked_prior_weights():
    net = make_net("scalar", n_modalities=3)
    conv = net.encoders["snp"].convs[0]
    dense = torch.zeros(6, 5)
    dense[conv.edge_index[0], conv.edge_index[1]] = conv.weight.detach()
    torch.testing.assert_close(net.edge_weight_l1(), dense.abs().sum())  # dense encoders are not penalised
    net.edge_weight_l1().backward()
    torch.testing.assert_close(conv.weight.grad, conv.weight.detach().sign())
    dense_only = DeepGAMINet({"a": DenseEncoder(4, 5), "b": DenseEncoder(3, 5)}, n_latent=5, n_classes=2)
    assert dense_only.edge_weight_l1().item() == 0.0


def test_edge_penalty_of_a_split_batch_adds_up_to_one_penalty():
    """Parts of a batch (processes, validation chunks) each carry their share of the penalty."""
    from deepgami.batches import Batchable
    from deepgami.tasks import Classification
    from deepgami.training import DeepGAMILoss, LossTotals

    net = make_net("scalar")
    x = {"snp": torch.randn(6, 6), "m1": torch.randn(6, 4)}
    observed = {m: torch.ones(6, dtype=torch.bool) for m in x}
    batch = Batchable(x, observed, torch.tensor([0, 1, 2, 0, 1, 2]))
    task = Classification(np.arange(3))
    totals = LossTotals.of(task, batch.y, observed)
    plain, penalised = DeepGAMILoss(net, task, 1.0), DeepGAMILoss(net, task, 1.0, edge_l1=0.1)
    whole = penalised(batch, totals)[0]
    torch.testing.assert_close(whole, plain(batch, totals)[0] + 0.1 * net.edge_weight_l1())
    halves = [penalised(batch.rows(torch.arange(i, i + 3)), totals)[0] for i in (0, 3)]
    torch.testing.assert_close(halves[0] + halves[1], whole)


@pytest.mark.parametrize("bad", [float("nan"), float("inf")])
def test_nan_or_inf_in_any_unobserved_cell_never_reaches_the_output(bad):
    """Three modalities, every pattern of one or two absent per row: the absent input's
    values (NaN, inf) must not change the logits of that row, nor make them non-finite."""
    net = make_net("per_node", n_modalities=3)
    x = {"snp": torch.randn(6, 6), "m1": torch.randn(6, 4), "m2": torch.randn(6, 4)}
    observed = {
        "snp": torch.tensor([1, 1, 0, 1, 0, 0], dtype=torch.bool),
        "m1": torch.tensor([1, 0, 1, 0, 1, 0], dtype=torch.bool),
        "m2": torch.tensor([0, 1, 1, 0, 0, 1], dtype=torch.bool),
    }
    clean = net(x, observed)
    poisoned = {m: torch.where(observed[m].unsqueeze(1), v, torch.full_like(v, bad)) for m, v in x.items()}
    out = net(poisoned, observed)
    assert torch.isfinite(out).all()
    torch.testing.assert_close(out, clean)
