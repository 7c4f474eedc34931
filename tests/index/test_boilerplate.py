"""Page chrome is recognised; information-bearing sentences are not."""

from __future__ import annotations

import pytest

from index.boilerplate import is_boilerplate


@pytest.mark.parametrize("sentence", [
    "Sign up for more newsletters here",
    "Thank you for signing up!",
    "Get Today's Headlines in your inbox:",
    "The day's top stories delivered every morning.",
    "Bulent Kilic/AFP/Getty Images",
    "/ AFP PHOTO / BULENT KILIC",
    "Photo: Jane Doe",
    "Follow us on Twitter.",
    "Advertisement",
])
def test_chrome_is_boilerplate(sentence: str) -> None:
    assert is_boilerplate(sentence)


@pytest.mark.parametrize("sentence", [
    "The United Nations estimates 8,000 people are trapped in Raqqa.",
    "The company said its newsletter business grew by 40% last year, driven by new "
    "subscribers who sign up for paid email editions in large numbers across Europe and Asia.",
    "He told the Associated Press that the talks had failed.",
    "The image sensor captures 12 megapixels.",
])
def test_prose_is_not_boilerplate(sentence: str) -> None:
    assert not is_boilerplate(sentence)
