"""BioDropConnect against the dense masked formula X (W ⊙ M) + b of the original DeepGAMI."""

from __future__ import annotations

import pytest
import torch

from deepgami.nn import BioDropConnect
from deepgami.nn.conv import DENSE_MIN_DENSITY

KERNELS = ["sparse", "scatter", "dense"]
DEVICES = ["cpu", pytest.param("cuda", marks=pytest.mark.gpu)]


def dense_reference(x, edge_index, weight, bias, num_src, num_dst):
    mask = torch.zeros(num_src, num_dst, dtype=x.dtype)
    mask[edge_index[0], edge_index[1]] = 1.0
    full = torch.zeros(num_src, num_dst, dtype=x.dtype)
    full = full.index_put((edge_index[0], edge_index[1]), weight)
    return x @ (full * mask) + bias


def random_graph(num_src, num_dst, n_edges, seed=0):
    gen = torch.Generator().manual_seed(seed)
    flat = torch.randperm(num_src * num_dst, generator=gen)[:n_edges]
    return torch.stack([flat // num_dst, flat % num_dst])


# Isolated sources (rows of M all zero) and destinations without edges (columns all zero).
TINY = torch.tensor([[0, 1, 2, 2, 4], [0, 0, 1, 3, 3]])  # source 3 isolated, destination 2 empty


def _device(device):
    if device == "cuda" and not torch.cuda.is_available():
        pytest.skip("CUDA not available")
    return torch.device(device)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("kernel", KERNELS)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_matches_dense_masked_formula_outputs_and_gradients(kernel, dtype, device):
    device = _device(device)
    edge_index = random_graph(40, 25, 120)
    layer = BioDropConnect(edge_index, 40, 25, kernel=kernel).to(device=device, dtype=dtype)
    x = torch.randn(7, 40, dtype=dtype, device=device, requires_grad=True)
    out = layer(x)
    weight = layer.weight.detach().clone().requires_grad_()
    bias = layer.bias.detach().clone().requires_grad_()
    x_ref = x.detach().clone().requires_grad_()
    ref = dense_reference(x_ref.cpu(), edge_index, weight.cpu(), bias.cpu(), 40, 25)
    tol = 1e-10 if dtype == torch.float64 else 1e-5
    assert out.shape == (7, 25)
    torch.testing.assert_close(out.cpu(), ref, atol=tol, rtol=tol)
    upstream = torch.randn(7, 25, dtype=dtype)
    out.backward(upstream.to(device))
    ref.backward(upstream)
    # x_ref (like weight and bias) lives on the layer's device; the reference ran on its CPU copy.
    torch.testing.assert_close(x.grad.cpu(), x_ref.grad.cpu(), atol=tol, rtol=tol)
    torch.testing.assert_close(layer.weight.grad.cpu(), weight.grad.cpu(), atol=tol, rtol=tol)
    torch.testing.assert_close(layer.bias.grad.cpu(), bias.grad.cpu(), atol=tol, rtol=tol)


@pytest.mark.parametrize("kernel", KERNELS)
def test_gradcheck_float64_with_isolated_nodes(kernel):
    layer = BioDropConnect(TINY, 5, 4, kernel=kernel).double()
    x = torch.randn(3, 5, dtype=torch.float64, requires_grad=True)

    def f(x, weight, bias):
        return torch.func.functional_call(layer, {"weight": weight, "bias": bias}, (x,))

    weight = layer.weight.detach().clone().requires_grad_()
    bias = layer.bias.detach().clone().requires_grad_()
    assert torch.autograd.gradcheck(f, (x, weight, bias))
    out = layer(x)
    # destination 2 receives no edge: only its bias reaches it
    torch.testing.assert_close(out[:, 2], layer.bias[2].expand(3))


@pytest.mark.parametrize("kernel", KERNELS)
def test_edge_order_does_not_matter(kernel):
    edge_index = random_graph(30, 20, 90, seed=3)
    perm = torch.randperm(90, generator=torch.Generator().manual_seed(4))
    a = BioDropConnect(edge_index, 30, 20, kernel=kernel)
    b = BioDropConnect(edge_index[:, perm], 30, 20, kernel=kernel)
    with torch.no_grad():
        b.weight.copy_(a.weight[perm])
        b.bias.copy_(a.bias)
    x = torch.randn(5, 30)
    torch.testing.assert_close(a(x), b(x))


def test_kernels_agree_and_to_dense_is_masked():
    edge_index = random_graph(50, 30, 200, seed=5)
    layers = {k: BioDropConnect(edge_index, 50, 30, kernel=k) for k in KERNELS}
    for layer in layers.values():
        layer.load_state_dict(layers["sparse"].state_dict())
    x = torch.randn(9, 50)
    outs = [layer(x) for layer in layers.values()]
    for out in outs[1:]:
        torch.testing.assert_close(out, outs[0], atol=1e-5, rtol=1e-5)
    dense = layers["dense"].to_dense()
    assert dense.shape == (50, 30)
    assert int((dense != 0).sum()) <= 200
    mask = torch.zeros(50, 30, dtype=torch.bool)
    mask[edge_index[0], edge_index[1]] = True
    assert (dense[~mask] == 0).all()


def test_edge_mask_scales_messages():
    layer = BioDropConnect(TINY, 5, 4)
    x = torch.randn(3, 5)
    assert torch.allclose(layer(x, edge_mask=torch.ones(5)), layer(x))
    off = layer(x, edge_mask=torch.zeros(5))
    torch.testing.assert_close(off, layer.bias.expand(3, 4))


def test_init_is_kaiming_uniform_by_destination_fan_in():
    torch.manual_seed(0)
    # destination 0 has 400 incoming edges, destination 1 has 4
    edge_index = torch.cat([torch.stack([torch.arange(400), torch.zeros(400, dtype=torch.long)]),
                            torch.stack([torch.arange(4), torch.ones(4, dtype=torch.long)])], dim=1)
    layer = BioDropConnect(edge_index, 400, 2)
    assert layer.weight[:400].abs().max() <= 1 / 400**0.5 + 1e-7
    assert layer.weight[400:].abs().max() <= 1 / 4**0.5 + 1e-7
    assert layer.weight[400:].abs().max() > 1 / 400**0.5


def test_auto_kernel_choice_and_repr():
    sparse = BioDropConnect(random_graph(2000, 1000, 5000), 2000, 1000)
    assert sparse.active_kernel == "sparse"
    n_dense = int(DENSE_MIN_DENSITY * 100 * 50) + 50
    dense = BioDropConnect(random_graph(100, 50, n_dense), 100, 50)
    assert dense.active_kernel == "dense"
    assert repr(sparse) == "BioDropConnect(2000, 1000, n_edges=5000, kernel=auto)"


def test_no_bias_and_bad_arguments():
    layer = BioDropConnect(TINY, 5, 4, bias=False)
    assert layer.bias is None
    torch.testing.assert_close(layer(torch.zeros(2, 5)), torch.zeros(2, 4))
    with pytest.raises(ValueError, match="shape \\(2, n_edges\\)"):
        BioDropConnect(torch.zeros(3, 4, dtype=torch.long), 5, 4)
    with pytest.raises(ValueError, match="indices"):
        BioDropConnect(torch.tensor([[0], [9]]), 5, 4)
    with pytest.raises(ValueError, match="unique edges"):
        BioDropConnect(torch.tensor([[0, 0], [1, 1]]), 5, 4)
    with pytest.raises(ValueError, match="kernel"):
        BioDropConnect(TINY, 5, 4, kernel="magic")
    with pytest.raises(ValueError, match="n_samples, 5"):
        layer(torch.zeros(2, 6))


def test_weight_gradient_of_a_shuffled_edge_list_matches_the_reference():
    """The sampled product runs in CSR order; gradients must come back in the caller's edge order."""
    edge_index = random_graph(100, 50, 3000, seed=7)
    edge_index = edge_index[:, torch.randperm(edge_index.shape[1], generator=torch.Generator().manual_seed(1))]
    layer = BioDropConnect(edge_index, 100, 50, kernel="sparse").double()
    x = torch.randn(6, 100, dtype=torch.float64)
    layer(x).pow(2).sum().backward()
    weight = layer.weight.detach().clone().requires_grad_()
    dense_reference(x, edge_index, weight, layer.bias.detach(), 100, 50).pow(2).sum().backward()
    torch.testing.assert_close(layer.weight.grad, weight.grad)
