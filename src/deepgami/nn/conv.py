"""Biological DropConnect as edge-weighted message passing on one bipartite relation."""

from __future__ import annotations

import warnings
from contextlib import contextmanager

import torch
from torch import Tensor
from torch_geometric.nn import MessagePassing

KERNELS = ("auto", "sparse", "scatter", "dense")

# 'auto' uses the dense masked matmul when the dense weight is small and the relation is
# dense. Measured with bench/bench_layer.py at 2,000 x 2,000, batch 64, 1 thread: the sparse
# kernel (CSR product, sampled-product weight gradient) is faster up to 10 % density and dense
# from 20 %; the paper-scale TF relation (208 x 2,870, 9.6 %) runs 1.5x faster sparse.
DENSE_MAX_ENTRIES = 4_000_000
DENSE_MIN_DENSITY = 0.15


@contextmanager
def _quiet_sparse():
    """Silence torch's notices about its sparse CSR tensors: every CSR tensor is flagged "beta",
    and some versions (2.11) note that invariant checks are off. The structures here are built
    valid by construction and the ops are tested against the dense formula."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Sparse CSR tensor support is in beta")
        warnings.filterwarnings("ignore", message="Sparse invariant checks are implicitly disabled")
        yield


def _csr_tensor(crow: Tensor, col: Tensor, values: Tensor, size: tuple[int, int]) -> Tensor:
    with _quiet_sparse():
        return torch.sparse_csr_tensor(crow, col, values, size, check_invariants=False)


class _CSRStructure:
    """Index structure of a relation, in both directions, built once per edge_index.

    ``perm`` sorts edges by (dst, src) for the forward CSR ``A`` of shape (num_dst, num_src);
    ``perm_t`` sorts them by (src, dst) for the transposed CSR used by the input gradient.
    """

    def __init__(self, edge_index: Tensor, num_src: int, num_dst: int) -> None:
        src, dst = edge_index
        self.num_src, self.num_dst = num_src, num_dst
        self.perm = torch.argsort(dst * num_src + src)
        self.perm_t = torch.argsort(src * num_dst + dst)
        self.crow = torch.ops.aten._convert_indices_from_coo_to_csr(dst[self.perm], num_dst)
        self.col = src[self.perm].contiguous()
        self.crow_t = torch.ops.aten._convert_indices_from_coo_to_csr(src[self.perm_t], num_src)
        self.col_t = dst[self.perm_t].contiguous()
        self.src, self.dst = src.contiguous(), dst.contiguous()

    @property
    def pattern(self) -> Tensor:
        """Sparsity pattern of ``A`` (values unused) to route PyG's fused message passing."""
        values = torch.ones(self.col.numel(), device=self.col.device)
        return _csr_tensor(self.crow, self.col, values, (self.num_dst, self.num_src))

    def to(self, device: torch.device) -> _CSRStructure:
        for name, value in vars(self).items():
            if isinstance(value, Tensor):
                setattr(self, name, value.to(device))
        return self

    def forward_matrix(self, weight: Tensor) -> Tensor:
        """Sparse CSR matrix of shape (num_dst, num_src) holding ``weight``."""
        return _csr_tensor(self.crow, self.col, weight[self.perm], (self.num_dst, self.num_src))

    def transposed_matrix(self, weight: Tensor) -> Tensor:
        """Sparse CSR matrix of shape (num_src, num_dst) holding ``weight``."""
        return _csr_tensor(self.crow_t, self.col_t, weight[self.perm_t], (self.num_src, self.num_dst))


class _EdgeWeightedAggregate(torch.autograd.Function):
    """``out[j] = sum_{e=(i->j)} w_e x[i]`` with hand-written CSR forward and backward.

    Written by hand because autograd around ``index_select``/``index_add`` (or torch's own
    sparse backward) costs several times the arithmetic at the sizes we care about; see
    DESIGN.md. Shapes: x (num_src, n), weight (n_edges,) -> (num_dst, n).
    """

    @staticmethod
    def forward(ctx, x: Tensor, weight: Tensor, structure: _CSRStructure) -> Tensor:
        ctx.save_for_backward(x, weight)
        ctx.structure = structure
        with _quiet_sparse():
            return structure.forward_matrix(weight) @ x

    @staticmethod
    def backward(ctx, grad_out: Tensor):
        with _quiet_sparse():
            return _EdgeWeightedAggregate._gradients(ctx, grad_out.contiguous())

    @staticmethod
    def _gradients(ctx, grad_out: Tensor):
        x, weight = ctx.saved_tensors
        structure: _CSRStructure = ctx.structure
        grad_x = grad_weight = None
        if ctx.needs_input_grad[0]:
            grad_x = structure.transposed_matrix(weight) @ grad_out
        if ctx.needs_input_grad[1]:
            # d out[j, k] / d w_e = x[src_e, k], so grad_w[e] = <grad_out[dst_e], x[src_e]>: a
            # sampled dense-dense product on A's pattern, computed per edge without the
            # (edges x samples) buffers of a gather (3-4x faster at 1M edges, bench/README.md).
            pattern = _csr_tensor(structure.crow, structure.col, weight.new_zeros(weight.numel()), (structure.num_dst, structure.num_src))
            sampled = torch.sparse.sampled_addmm(pattern, grad_out, x.t(), beta=0.0)
            grad_weight = torch.empty_like(weight).index_copy_(0, structure.perm, sampled.values())
        return grad_x, grad_weight, None


class _DenseEdgeMatmul(torch.autograd.Function):
    """``x @ W`` where ``W`` (num_src, num_dst) is zero except ``W.view(-1)[flat_index] = weight``.

    Written by hand for small dense relations: autograd around an indexed write into the
    matrix costs more than the masked product of the dense formulation it replaces; here the
    forward keeps the built matrix for the input gradient and the weight gradient is one
    ``index_select`` of ``x.T @ grad``. Shapes: x (n, num_src), weight (n_edges,) -> (n, num_dst).
    """

    @staticmethod
    def forward(ctx, x: Tensor, weight: Tensor, flat_index: Tensor, num_src: int, num_dst: int) -> Tensor:
        dense = weight.new_zeros(num_src * num_dst).index_copy_(0, flat_index, weight).view(num_src, num_dst)
        ctx.save_for_backward(x, dense, flat_index)
        return x @ dense

    @staticmethod
    def backward(ctx, grad_out: Tensor):
        x, dense, flat_index = ctx.saved_tensors
        grad_x = grad_out @ dense.t() if ctx.needs_input_grad[0] else None
        grad_weight = (x.t() @ grad_out).view(-1).index_select(0, flat_index) if ctx.needs_input_grad[1] else None
        return grad_x, grad_weight, None, None, None


class BioDropConnect(MessagePassing):
    r"""Biologically guided DropConnect: one learnable weight per prior edge.

    From DeepGAMI (Chandrashekar et al., Genome Medicine 2023,
    https://doi.org/10.1186/s13073-023-01248-6), eq. 1, written as message passing from
    source features to destination (latent) nodes with samples as channels:

    .. math::
        C_{k,j} = \sum_{e = (i \to j)} w_e X_{k,i} + b_j

    which equals :math:`X (W \odot M) + b` with :math:`M` the 0/1 adjacency, but stores and
    touches only the edges. The activation is applied by the caller.

    Parameters
    ----------
    edge_index : LongTensor
        Edges of shape (2, n_edges), row 0 source, row 1 destination.
    num_src : int
        Number of source features.
    num_dst : int
        Number of destination nodes.
    bias : bool, default=True
        Learn one bias per destination node.
    kernel : str, default="auto"
        ``"sparse"`` (CSR product with a hand-written backward), ``"scatter"`` (PyG
        gather/scatter messages), ``"dense"`` (masked dense matmul), or ``"auto"`` to pick by
        size and density.

    Shapes: x (n_samples, num_src) -> (n_samples, num_dst).
    """

    def __init__(
        self,
        edge_index: Tensor,
        num_src: int,
        num_dst: int,
        bias: bool = True,
        kernel: str = "auto",
    ) -> None:
        super().__init__(aggr="add")
        edge_index = torch.as_tensor(edge_index, dtype=torch.long)
        if edge_index.dim() != 2 or edge_index.shape[0] != 2:
            msg = f"Expected 'edge_index' of shape (2, n_edges) (got {tuple(edge_index.shape)})"
            raise ValueError(msg)
        if edge_index.numel() and (
            edge_index[0].min() < 0 or edge_index[0].max() >= num_src or edge_index[1].min() < 0 or edge_index[1].max() >= num_dst
        ):
            msg = f"Expected source indices in [0, {num_src}) and destination indices in [0, {num_dst})"
            raise ValueError(msg)
        flat = edge_index[0] * num_dst + edge_index[1]
        if torch.unique(flat).numel() != flat.numel():
            msg = "Expected unique edges in 'edge_index' (found duplicate source-destination pairs)"
            raise ValueError(msg)
        if kernel not in KERNELS:
            msg = f"Expected 'kernel' in {KERNELS} (got {kernel!r})"
            raise ValueError(msg)
        self.num_src, self.num_dst = int(num_src), int(num_dst)
        # Not persistent: the edges define the layer (rebuilt from the graph on load) and the
        # cached CSR structure must never go stale behind a loaded state dict.
        self.register_buffer("edge_index", edge_index.contiguous(), persistent=False)
        # Position of each edge in the flattened (num_src x num_dst) matrix, for the dense kernel.
        self.register_buffer("flat_index", flat.contiguous(), persistent=False)
        self.weight = torch.nn.Parameter(torch.empty(edge_index.shape[1]))
        if bias:
            self.bias = torch.nn.Parameter(torch.empty(self.num_dst))
        else:
            self.register_parameter("bias", None)
        self.kernel = kernel
        self._structure: _CSRStructure | None = None
        self.reset_parameters()

    @property
    def n_edges(self) -> int:
        return self.edge_index.shape[1]

    @property
    def density(self) -> float:
        return self.n_edges / max(self.num_src * self.num_dst, 1)

    @property
    def active_kernel(self) -> str:
        """The kernel ``forward`` uses: ``kernel``, or the size/density choice for ``"auto"``."""
        if self.kernel != "auto":
            return self.kernel
        small = self.num_src * self.num_dst <= DENSE_MAX_ENTRIES
        return "dense" if small and self.density >= DENSE_MIN_DENSITY else "sparse"

    def in_degree(self) -> Tensor:
        """Number of incoming edges per destination node, shape (num_dst,)."""
        return torch.bincount(self.edge_index[1], minlength=self.num_dst)

    def reset_parameters(self) -> None:
        """Kaiming-uniform by destination fan-in, like ``torch.nn.Linear`` restricted to the mask."""
        super().reset_parameters()
        fan_in = self.in_degree().clamp(min=1).to(torch.float32)
        bound = 1.0 / torch.sqrt(fan_in)
        with torch.no_grad():
            self.weight.uniform_(-1.0, 1.0).mul_(bound[self.edge_index[1]])
            if self.bias is not None:
                self.bias.uniform_(-1.0, 1.0).mul_(bound)
        self._structure = None

    def _csr(self) -> _CSRStructure:
        device = self.edge_index.device
        if self._structure is None or self._structure.src.device != device:
            self._structure = _CSRStructure(self.edge_index, self.num_src, self.num_dst).to(device)
        return self._structure

    def to_dense(self) -> Tensor:
        r"""The masked weight matrix :math:`W \odot M` of shape (num_src, num_dst) (differentiable)."""
        return self._dense_weight(self.weight)

    def _dense_weight(self, weight: Tensor) -> Tensor:
        # Edges are unique, so no accumulation is needed; backward gathers the edge gradients.
        dense = weight.new_zeros(self.num_src * self.num_dst)
        dense[self.flat_index] = weight  # in place: an out-of-place scatter copies the matrix again
        return dense.view(self.num_src, self.num_dst)

    def forward(self, x: Tensor, edge_mask: Tensor | None = None) -> Tensor:
        """Map (n_samples, num_src) to (n_samples, num_dst).

        ``edge_mask`` of shape (n_edges,), optional, scales every edge's message (used by
        edge-level attributions; ``1`` everywhere equals no mask).
        """
        if x.dim() != 2 or x.shape[1] != self.num_src:
            msg = f"Expected input of shape (n_samples, {self.num_src}) (got {tuple(x.shape)})"
            raise ValueError(msg)
        weight = self.weight if edge_mask is None else self.weight * edge_mask
        kernel = "scatter" if self.explain else self.active_kernel
        if kernel == "dense":
            out = _DenseEdgeMatmul.apply(x, weight, self.flat_index, self.num_src, self.num_dst)
        elif kernel == "sparse":
            with _quiet_sparse():
                out = self.propagate(self._csr().pattern, x=x.t().contiguous(), edge_weight=weight).t()
        else:
            out = self.propagate(self.edge_index, x=(x.t(), None), edge_weight=weight, size=(self.num_src, self.num_dst)).t()
        if self.bias is not None:
            out = out + self.bias
        return out

    def message(self, x_j: Tensor, edge_weight: Tensor) -> Tensor:
        return x_j * edge_weight.view(-1, 1)

    def message_and_aggregate(self, adj_t: Tensor, x: Tensor, edge_weight: Tensor) -> Tensor:
        # ``adj_t`` only carries the sparsity pattern into PyG's fused path; the weights travel
        # separately so the hand-written backward can return their gradient densely.
        return _EdgeWeightedAggregate.apply(x, edge_weight, self._csr())

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}({self.num_src}, {self.num_dst}, n_edges={self.n_edges}, kernel={self.kernel})"

