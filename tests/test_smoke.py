from analysis.analyze import analyze


def test_analyze_returns_versioned_result() -> None:
    result = analyze("Тестовий текст")
    assert result.version
    assert result.oblasts == tuple(sorted(result.oblasts))
