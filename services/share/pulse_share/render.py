"""The client view: the redacted payload mapped onto the shared report's neutral view model
(which has no place for money), and share's own pages (locked, not found, not ready)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote

from pulse_contracts.forecast import DeliveryForecast
from pulse_report import (
    CampaignReport,
    Page,
    ReportCampaign,
    ReportClient,
    ReportCounters,
    ReportCreator,
    ReportCreatorEmv,
    ReportDay,
    ReportEmv,
    ReportForecast,
    ReportKpis,
    ReportPlatform,
    ReportPost,
    from_fields,
    render_page,
    report_filename,
    report_page,
)

from .domain import ShareClient, SharePayload
from .emv import ShareEmv

__all__ = [
    "API_CSP",
    "MediaSrc",
    "Page",
    "busy_page",
    "client_report",
    "locked_page",
    "media_src",
    "not_found_page",
    "not_ready_page",
    "preparing_page",
    "report_failed_page",
    "report_filename",
    "share_page",
    "too_many_page",
]

TEMPLATES = Path(__file__).parent / "templates"
API_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
# A payload's image URL → the src the client's browser may load (this link's media proxy),
# or None for a placeholder.
MediaSrc = Callable[[str | None], str | None]


def no_images(url: str | None) -> str | None:
    return None


def media_src(token: str, proxiable: Callable[[str], bool]) -> MediaSrc:
    """Images through `/share/{token}/media`: the page's CSP admits its own origin only, and
    an image the proxy would refuse anyway becomes a placeholder instead of a broken image."""

    def src(url: str | None) -> str | None:
        if url is None or not proxiable(url):
            return None
        return f"/share/{token}/media?url={quote(url, safe='')}"

    return src


def client_report(
    payload: SharePayload,
    media: MediaSrc = no_images,
    forecast: DeliveryForecast | None = None,
    emv: ShareEmv | None = None,
) -> CampaignReport:
    """Field by field, like the payload itself: nothing is copied whole."""
    k = payload.kpis
    return CampaignReport(
        campaign=ReportCampaign(
            name=payload.campaign.name,
            status=payload.campaign.status,
            start_date=payload.campaign.start_date,
            end_date=payload.campaign.end_date,
        ),
        client=(
            ReportClient(
                name=payload.client.name,
                brand_color=payload.client.brand_color,
                logo_src=media(payload.client.logo_url),
            )
            if payload.client
            else None
        ),
        kpis=from_fields(ReportKpis, k),
        daily=tuple(from_fields(ReportDay, d) for d in payload.daily),
        platforms=tuple(from_fields(ReportPlatform, p) for p in payload.platforms),
        creators=tuple(
            ReportCreator(
                display_name=i.display_name,
                avatar_src=media(i.avatar_url),
                tier=i.tier,
                platforms=tuple(i.platforms),
                actual_views=i.actual_views,
                actual_engagement=i.actual_engagement,
                engagement_rate=i.engagement_rate,
                posts=tuple(
                    ReportPost(
                        platform=p.platform,
                        url=p.url,
                        thumb_src=media(p.thumb_url),
                        posted_at=p.posted_at,
                        caption=p.caption,
                        counters=(
                            ReportCounters(
                                views=p.counters.views,
                                likes=p.counters.likes,
                                comments=p.counters.comments,
                                shares=p.counters.shares,
                                saves=p.counters.saves,
                                estimated=p.counters.estimated,
                            )
                            if p.counters
                            else None
                        ),
                    )
                    for p in i.posts
                ),
            )
            for i in payload.influencers
        ),
        generated_at=payload.generated_at,
        forecast=_forecast(forecast),
        emv=_emv(emv),
    )


def _emv(e: ShareEmv | None) -> ReportEmv | None:
    """Earned media value, for a link that opted in (handlers.open_link decides)."""
    if e is None:
        return None
    return ReportEmv(
        currency=e.currency,
        emv_cents=e.emv_cents,
        creators=tuple(
            ReportCreatorEmv(display_name=c.display_name, emv_cents=c.emv_cents) for c in e.creators
        ),
    )


def _forecast(f: DeliveryForecast | None) -> ReportForecast | None:
    """The delivery forecast, for a link that opted in (handlers.open_link decides)."""
    if f is None:
        return None
    return ReportForecast(
        status=f.status,
        views=f.views,
        views_low=f.views_low,
        views_high=f.views_high,
        engagement=f.engagement,
        engagement_low=f.engagement_low,
        engagement_high=f.engagement_high,
        posts=f.posts,
        posts_low=f.posts_low,
        posts_high=f.posts_high,
    )


def share_page(
    payload: SharePayload,
    *,
    pdf_href: str | None = None,
    for_print: bool = False,
    media: MediaSrc = no_images,
    period_days: int | None = None,
    forecast: DeliveryForecast | None = None,
    emv: ShareEmv | None = None,
) -> Page:
    """The client view; `for_print` is the same layout as the PDF renders it."""
    return report_page(
        client_report(payload, media, forecast, emv),
        pdf_href=pdf_href,
        for_print=for_print,
        period_days=period_days,
    )


def _page(template: str, **context: object) -> Page:
    return render_page(template, None, search_path=(TEMPLATES,), **context)


def locked_page(token: str, *, wrong_password: bool, client: ShareClient | None = None) -> Page:
    """The password page, in the client's colours and with its name (nothing else shows)."""
    return render_page(
        "locked.html",
        client.brand_color if client else None,
        search_path=(TEMPLATES,),
        token=token,
        wrong_password=wrong_password,
        client_name=client.name if client else None,
    )


def not_found_page() -> Page:
    """One page for every token that shows nothing: unknown, expired and revoked alike."""
    return _page("not_found.html")


def not_ready_page() -> Page:
    return _page("not_ready.html")


def preparing_page(token: str, progress: int, refresh_s: int) -> Page:
    """ "Preparing your report…": refreshes itself (no script on this origin) until the PDF
    is ready, and the same URL then answers the PDF."""
    return _page("preparing.html", token=token, progress=progress, refresh_s=refresh_s)


def report_failed_page(token: str) -> Page:
    return _page("report_failed.html", token=token)


def busy_page() -> Page:
    return _page("busy.html")


def too_many_page() -> Page:
    return _page("too_many.html")
