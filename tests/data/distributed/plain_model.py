"""A model with no torch.distributed code of its own, verified under torchrun: initlint opens the process
group after the build (gloo for a CPU model, NCCL for a CUDA one), so rank 0 alone reports and the ranks'
copies, seeded alike by --seed, are compared. Nothing to report."""

from _common import MLP


def build_model():
    model = MLP()
    model.init_weights()
    return model
