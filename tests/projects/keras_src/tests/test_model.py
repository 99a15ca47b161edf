from kpkg.model import build_model


def test_build():
    assert build_model() is not None
