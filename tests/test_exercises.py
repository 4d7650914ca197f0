from effdl import exercises
from effdl.core.footprint import pareto_front


def test_linear_and_conv_macs(capsys):
    assert exercises.check_linear_macs(784 * 256)
    assert "✅" in capsys.readouterr().out
    assert not exercises.check_linear_macs(784 * 256 + 256)
    assert "bias" in capsys.readouterr().out
    assert not exercises.check_linear_macs(None)
    assert "fill in" in capsys.readouterr().out
    assert exercises.check_conv_macs(32 * 14 * 14 * 16 * 9)
    assert not exercises.check_conv_macs(32 * 16 * 9)


def test_pareto_checker_accepts_right_and_catches_wrong_answers(capsys):
    assert exercises.check_pareto_front(lambda pts: pareto_front(pts))

    def forgets_ties(points):  # keeps every point that no other point strictly beats in both coordinates
        return [
            i
            for i, (s, a) in enumerate(points)
            if not any(s2 < s and a2 > a for j, (s2, a2) in enumerate(points) if j != i)
        ]

    assert not exercises.check_pareto_front(forgets_ties)
    assert "trial" in capsys.readouterr().out

    def unfinished(points):
        raise NotImplementedError

    assert not exercises.check_pareto_front(unfinished)
    assert "NotImplementedError" in capsys.readouterr().out
