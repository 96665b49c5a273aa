"""Tests for parsing pasted post URLs into platform, post id and canonical URL."""

import pytest

from pulse_contracts.post_urls import PostUrl, PostUrlError, parse_post_url

ACCEPTED: list[tuple[str, str, str | None, str]] = [
    # TikTok
    (
        "https://www.tiktok.com/@maya.styles/video/7433917265401856302",
        "tiktok",
        "7433917265401856302",
        "https://www.tiktok.com/@maya.styles/video/7433917265401856302",
    ),
    (
        "https://www.tiktok.com/@maya.styles/video/7433917265401856302?_r=1&u_code=e7k2#x",
        "tiktok",
        "7433917265401856302",
        "https://www.tiktok.com/@maya.styles/video/7433917265401856302",
    ),
    (
        "http://m.tiktok.com/@maya.styles/video/7433917265401856302/",
        "tiktok",
        "7433917265401856302",
        "https://www.tiktok.com/@maya.styles/video/7433917265401856302",
    ),
    (
        "https://tiktok.com/@some_user/photo/7400000000000000001",
        "tiktok",
        "7400000000000000001",
        "https://www.tiktok.com/@some_user/photo/7400000000000000001",
    ),
    (
        "www.tiktok.com/@maya.styles/video/7433917265401856302",
        "tiktok",
        "7433917265401856302",
        "https://www.tiktok.com/@maya.styles/video/7433917265401856302",
    ),
    ("https://vm.tiktok.com/ZMhKqL3aB/", "tiktok", None, "https://vm.tiktok.com/ZMhKqL3aB/"),
    ("https://vt.tiktok.com/ZSabc123/", "tiktok", None, "https://vt.tiktok.com/ZSabc123/"),
    ("https://www.tiktok.com/t/ZTabc123/", "tiktok", None, "https://www.tiktok.com/t/ZTabc123/"),
    # Instagram
    (
        "https://www.instagram.com/p/DCFq3xRu4Jk/",
        "instagram",
        "DCFq3xRu4Jk",
        "https://www.instagram.com/p/DCFq3xRu4Jk/",
    ),
    (
        "https://instagram.com/reel/DCFq3xRu4Jk?igsh=abc123",
        "instagram",
        "DCFq3xRu4Jk",
        "https://www.instagram.com/reel/DCFq3xRu4Jk/",
    ),
    (
        "https://www.instagram.com/reels/DCFq3xRu4Jk/",
        "instagram",
        "DCFq3xRu4Jk",
        "https://www.instagram.com/reel/DCFq3xRu4Jk/",
    ),
    (
        "https://www.instagram.com/tv/B_a-b_c1234/",
        "instagram",
        "B_a-b_c1234",
        "https://www.instagram.com/tv/B_a-b_c1234/",
    ),
    (
        "https://www.instagram.com/maya.styles/reel/DCFq3xRu4Jk/",
        "instagram",
        "DCFq3xRu4Jk",
        "https://www.instagram.com/reel/DCFq3xRu4Jk/",
    ),
    # YouTube
    (
        "https://www.youtube.com/watch?v=Kq7vX2mLp9A",
        "youtube",
        "Kq7vX2mLp9A",
        "https://www.youtube.com/watch?v=Kq7vX2mLp9A",
    ),
    (
        "https://www.youtube.com/watch?feature=share&v=Kq7vX2mLp9A&t=42s",
        "youtube",
        "Kq7vX2mLp9A",
        "https://www.youtube.com/watch?v=Kq7vX2mLp9A",
    ),
    (
        "https://m.youtube.com/watch?v=Kq7vX2mLp9A",
        "youtube",
        "Kq7vX2mLp9A",
        "https://www.youtube.com/watch?v=Kq7vX2mLp9A",
    ),
    (
        "https://youtube.com/shorts/Zr3nB8cT1wE?feature=share",
        "youtube",
        "Zr3nB8cT1wE",
        "https://www.youtube.com/shorts/Zr3nB8cT1wE",
    ),
    (
        "https://youtu.be/Kq7vX2mLp9A?si=xyz",
        "youtube",
        "Kq7vX2mLp9A",
        "https://www.youtube.com/watch?v=Kq7vX2mLp9A",
    ),
    # Facebook
    (
        "https://www.facebook.com/mayastyles/posts/1098765432109876",
        "facebook",
        "1098765432109876",
        "https://www.facebook.com/mayastyles/posts/1098765432109876",
    ),
    (
        "https://www.facebook.com/mayastyles/posts/pfbid02AbCdEfGhIjKlMnOpQrStUvWxYz",
        "facebook",
        "pfbid02AbCdEfGhIjKlMnOpQrStUvWxYz",
        "https://www.facebook.com/mayastyles/posts/pfbid02AbCdEfGhIjKlMnOpQrStUvWxYz",
    ),
    (
        "https://www.facebook.com/reel/1187654321098765?mibextid=abc",
        "facebook",
        "1187654321098765",
        "https://www.facebook.com/reel/1187654321098765",
    ),
    (
        "https://m.facebook.com/mayastyles/videos/1187654321098765/",
        "facebook",
        "1187654321098765",
        "https://www.facebook.com/mayastyles/videos/1187654321098765",
    ),
    (
        "https://www.facebook.com/watch/?v=1187654321098765",
        "facebook",
        "1187654321098765",
        "https://www.facebook.com/watch/?v=1187654321098765",
    ),
    (
        "https://web.facebook.com/watch?v=1187654321098765&ref=sharing",
        "facebook",
        "1187654321098765",
        "https://www.facebook.com/watch/?v=1187654321098765",
    ),
    (
        "https://www.facebook.com/share/r/1AbCdEfGh2/",
        "facebook",
        "1AbCdEfGh2",
        "https://www.facebook.com/share/r/1AbCdEfGh2/",
    ),
    (
        "https://www.facebook.com/share/p/1XyZ9aBc/?mibextid=WC7FNe",
        "facebook",
        "1XyZ9aBc",
        "https://www.facebook.com/share/p/1XyZ9aBc/",
    ),
    (
        "https://www.facebook.com/share/v/15qRsTuV/",
        "facebook",
        "15qRsTuV",
        "https://www.facebook.com/share/v/15qRsTuV/",
    ),
    ("https://fb.watch/abC1dEf2gH/", "facebook", "abC1dEf2gH", "https://fb.watch/abC1dEf2gH/"),
]


@pytest.mark.parametrize(("url", "platform", "post_id", "canonical"), ACCEPTED)
def test_accepted_urls(url: str, platform: str, post_id: str | None, canonical: str) -> None:
    parsed = parse_post_url(url)
    assert parsed == PostUrl(platform=platform, platform_post_id=post_id, url=canonical)  # type: ignore[arg-type]


def test_surrounding_whitespace_is_ignored() -> None:
    parsed = parse_post_url("  https://youtu.be/Kq7vX2mLp9A \n")
    assert parsed.platform_post_id == "Kq7vX2mLp9A"


def test_canonical_url_parses_to_the_same_result() -> None:
    for url, _, _, _ in ACCEPTED:
        first = parse_post_url(url)
        assert parse_post_url(first.url) == first


REFUSED: list[tuple[str, str]] = [
    ("ftp://www.tiktok.com/@maya/video/1", "scheme"),
    ("javascript:alert(1)", "scheme"),
    ("file:///etc/passwd", "scheme"),
    ("", "empty"),
    ("https://", "no host"),
    ("https://example.com/@maya/video/123", "unsupported host"),
    ("https://tiktok.com.evil.com/@maya/video/123", "unsupported host"),
    ("https://eviltiktok.com/@maya/video/123", "unsupported host"),
    ("https://notyoutube.com/watch?v=Kq7vX2mLp9A", "unsupported host"),
    ("https://www.tiktok.com@evil.com/@maya/video/123", "user name"),
    ("https://evil.com\\@www.tiktok.com/@maya/video/123", "user name"),
    ("https://user:pw@www.tiktok.com/@maya/video/123", "password"),
    ("https://www.tiktok.com:8443/@maya/video/123", "port"),
    ("https://www.tiktok.com/@maya", "expected /@handle/video/<id>"),
    ("https://www.tiktok.com/@maya/video/", "expected /@handle/video/<id>"),
    ("https://www.tiktok.com/@maya/video/abc", "expected /@handle/video/<id>"),
    ("https://www.tiktok.com/", "expected /@handle/video/<id>"),
    ("https://vm.tiktok.com/", "short link"),
    ("https://www.instagram.com/maya.styles/", "Instagram post URL"),
    ("https://www.instagram.com/p/", "Instagram post URL"),
    ("https://www.instagram.com/p/bad!code/", "Instagram post URL"),
    ("https://www.youtube.com/watch", "v=<video id>"),
    ("https://www.youtube.com/watch?list=PL123", "v=<video id>"),
    ("https://www.youtube.com/@mayastyles", "YouTube video URL"),
    ("https://youtu.be/", "YouTube video URL"),
    ("https://www.youtube.com/watch?v=short", "11 characters"),
    ("https://www.facebook.com/mayastyles", "Facebook post URL"),
    ("https://www.facebook.com/reel/", "Facebook post URL"),
    ("https://www.facebook.com/watch/", "v=<video id>"),
    ("https://www.facebook.com/share/r/", "Facebook post URL"),
    ("https://fb.watch/", "fb.watch"),
    ("https://www.youtube.com/watch?v=" + "a" * 2048, "too long"),
]


@pytest.mark.parametrize(("url", "reason"), REFUSED)
def test_refused_urls_say_why(url: str, reason: str) -> None:
    with pytest.raises(PostUrlError) as info:
        parse_post_url(url)
    assert reason in str(info.value)


def test_url_at_the_length_limit_is_still_checked_normally() -> None:
    url = "https://www.youtube.com/watch?v=Kq7vX2mLp9A&pad="
    url += "x" * (2048 - len(url))
    assert len(url) == 2048
    assert parse_post_url(url).platform_post_id == "Kq7vX2mLp9A"


def test_post_url_error_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="unsupported host"):
        parse_post_url("https://example.com/")


def test_non_string_is_refused() -> None:
    with pytest.raises(PostUrlError, match="string"):
        parse_post_url(None)  # type: ignore[arg-type]
