"""Golden forward and backward passes of Gradus's decoder-only transformer, from PyTorch.

Run: python Tests/GradusTestSupport/Fixtures/transformer/generate.py   (torch 2.13.0+cpu, safetensors)
Writes one safetensors file per case next to this script. Each holds the model's weights under
Gradus's parameter names (embed.token.weight, blocks.<i>.attn.q.weight, blocks.<i>.norm1.weight,
head.weight, ...), the input ids and labels, and the expected logits, mean cross-entropy loss and
the gradient of that loss for every parameter (grad/<name>). The architecture is written here
independently of Gradus, from the transformer papers: token + position embeddings; per block
causal multi-head self-attention (q, k, v, o Linear with bias; scores q·kᵀ/√d_head plus a -1e9
mask above the diagonal) and an MLP Linear(d, 4d) -> exact GELU -> Linear(4d, d); LayerNorm
(eps 1e-5) at the placement's slots: post x = N(x + F(x)); pre x = x + F(N(x)) and a final N;
peri x = x + N_out(F(N_in(x))) and a final N; a bias-free head, optionally tied to the token
embedding; logits of every position or of the last one.
"""
import math
import os

import torch
import torch.nn.functional as F
from safetensors.torch import save_file

HERE = os.path.dirname(os.path.abspath(__file__))
torch.set_default_dtype(torch.float32)


class Block(torch.nn.Module):
    def __init__(self, d, heads, placement):
        super().__init__()
        self.heads, self.placement = heads, placement
        self.attn = torch.nn.ModuleDict({n: torch.nn.Linear(d, d) for n in "qkvo"})
        self.mlp = torch.nn.ModuleDict({"fc1": torch.nn.Linear(d, 4 * d), "fc2": torch.nn.Linear(4 * d, d)})
        names = {"pre": ["norm1", "norm2"], "post": ["norm1", "norm2"],
                 "peri": ["norm1_in", "norm1_out", "norm2_in", "norm2_out"]}[placement]
        self.norms = torch.nn.ModuleDict({n: torch.nn.LayerNorm(d, eps=1e-5) for n in names})

    def attention(self, x, batch, t):
        d = x.shape[1]
        dh = d // self.heads

        def split(y):
            return y.view(batch, t, self.heads, dh).transpose(1, 2)

        q, k, v = (split(self.attn[n](x)) for n in "qkv")
        mask = torch.triu(torch.full((t, t), -1e9), diagonal=1)
        scores = q @ k.transpose(-1, -2) / math.sqrt(dh) + mask
        mixed = (scores.softmax(-1) @ v).transpose(1, 2).reshape(batch * t, d)
        return self.attn["o"](mixed)

    def mlp_branch(self, x):
        return self.mlp["fc2"](F.gelu(self.mlp["fc1"](x)))

    def forward(self, x, batch, t):
        n = self.norms
        if self.placement == "pre":
            x = x + self.attention(n["norm1"](x), batch, t)
            return x + self.mlp_branch(n["norm2"](x))
        if self.placement == "post":
            x = n["norm1"](x + self.attention(x, batch, t))
            return n["norm2"](x + self.mlp_branch(x))
        x = x + n["norm1_out"](self.attention(n["norm1_in"](x), batch, t))
        return x + n["norm2_out"](self.mlp_branch(n["norm2_in"](x)))


class Model(torch.nn.Module):
    def __init__(self, vocabulary, context, d, heads, layers, placement, tied, last):
        super().__init__()
        self.token = torch.nn.Parameter(torch.randn(vocabulary, d) * 0.5)
        self.position = torch.nn.Parameter(torch.randn(context, d) * 0.5)
        self.blocks = torch.nn.ModuleList([Block(d, heads, placement) for _ in range(layers)])
        self.final = None if placement == "post" else torch.nn.LayerNorm(d, eps=1e-5)
        self.head = None if tied else torch.nn.Parameter(torch.randn(vocabulary, d) * 0.3)
        self.last = last
        # Norm gains and biases away from 1 and 0, so that a slip in their use shows.
        with torch.no_grad():
            for m in self.modules():
                if isinstance(m, torch.nn.LayerNorm):
                    m.weight.add_(torch.randn_like(m.weight) * 0.2)
                    m.bias.add_(torch.randn_like(m.bias) * 0.2)

    def forward(self, ids):
        batch, t = ids.shape
        h = self.token[ids.reshape(-1)] + self.position[torch.arange(t).repeat(batch)]
        for block in self.blocks:
            h = block(h, batch, t)
        if self.final is not None:
            h = self.final(h)
        if self.last:
            h = h[torch.arange(batch) * t + t - 1]
        return h @ (self.token if self.head is None else self.head).t()

    def named_for_gradus(self):
        out = {"embed.token.weight": self.token, "embed.position.weight": self.position}
        for i, b in enumerate(self.blocks):
            for n in "qkvo":
                out[f"blocks.{i}.attn.{n}.weight"] = b.attn[n].weight
                out[f"blocks.{i}.attn.{n}.bias"] = b.attn[n].bias
            for n in ("fc1", "fc2"):
                out[f"blocks.{i}.mlp.{n}.weight"] = b.mlp[n].weight
                out[f"blocks.{i}.mlp.{n}.bias"] = b.mlp[n].bias
            for n, m in b.norms.items():
                out[f"blocks.{i}.{n}.weight"] = m.weight
                out[f"blocks.{i}.{n}.bias"] = m.bias
        if self.final is not None:
            out["final_norm.weight"] = self.final.weight
            out["final_norm.bias"] = self.final.bias
        if self.head is not None:
            out["head.weight"] = self.head
        return out


def main():
    for name, placement, tied, last, seed in CASES:
        write_case(name, placement, tied, last, seed)


CASES = [
    # name, placement, tied, last position only, seed
    ("pre_untied", "pre", False, False, 1),
    ("post_tied", "post", True, False, 2),
    ("peri_last", "peri", False, True, 3),
]
VOCABULARY, CONTEXT, D, HEADS, LAYERS, BATCH = 11, 5, 8, 2, 2, 3


def write_case(name, placement, tied, last, seed):
    torch.manual_seed(seed)
    model = Model(VOCABULARY, CONTEXT, D, HEADS, LAYERS, placement, tied, last)
    ids = torch.randint(0, VOCABULARY, (BATCH, CONTEXT))
    labels = torch.randint(0, VOCABULARY, (BATCH,) if last else (BATCH * CONTEXT,))
    logits = model(ids)
    loss = F.cross_entropy(logits, labels)
    loss.backward()
    tensors = {k: v.detach().clone().contiguous() for k, v in model.named_for_gradus().items()}
    tensors.update({"grad/" + k: v.grad.detach().clone().contiguous() for k, v in model.named_for_gradus().items()})
    tensors.update({"ids": ids.float(), "labels": labels.float(), "logits": logits.detach().contiguous(), "loss": loss.detach().reshape(1)})
    meta = {"placement": placement, "tied": str(tied).lower(), "last_position_only": str(last).lower(),
            "vocabulary": str(VOCABULARY), "context": str(CONTEXT), "d_model": str(D), "heads": str(HEADS),
            "layers": str(LAYERS), "generator": f"torch {torch.__version__}"}
    save_file(tensors, os.path.join(HERE, f"{name}.safetensors"), metadata=meta)
    print(name, "loss", float(loss.detach()))


if __name__ == "__main__":
    main()
