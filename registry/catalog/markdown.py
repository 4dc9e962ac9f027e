"""README and description rendering: CommonMark (markdown-it-py), then an allow-list sanitiser (nh3).

Raw HTML in the Markdown is not rendered at all, and the output is sanitised anyway, so no
script, iframe, event handler or javascript: link reaches the page whatever the input.
"""

from __future__ import annotations

import nh3
from markdown_it import MarkdownIt
from markupsafe import Markup

ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "code", "del", "em", "h3", "h4", "h5", "h6", "hr", "i", "img", "li",
    "ol", "p", "pre", "s", "strong", "sub", "sup", "table", "tbody", "td", "th", "thead", "tr", "ul",
}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "img": {"src", "alt", "title"}, "code": {"class"},
                      "th": {"style"}, "td": {"style"}, "ol": {"start"}}
URL_SCHEMES = {"http", "https", "mailto"}
# Page headings are h1/h2; a README's own headings start below them so the outline stays valid.
HEADING_SHIFT = 2
MAX_MARKDOWN = 200_000

_parser = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table").enable("strikethrough")


def render_markdown(text: str | None) -> Markup:
    source = (text or "")[:MAX_MARKDOWN]
    tokens = _parser.parse(source)
    for token in tokens:
        if token.type in ("heading_open", "heading_close"):
            token.tag = f"h{min(6, int(token.tag[1]) + HEADING_SHIFT)}"
    html = _parser.renderer.render(tokens, _parser.options, {})
    clean = nh3.clean(html, tags=ALLOWED_TAGS, attributes=ALLOWED_ATTRIBUTES, url_schemes=URL_SCHEMES,
                      link_rel="noopener noreferrer nofollow",
                      filter_style_properties={"text-align"})
    return Markup(clean)
