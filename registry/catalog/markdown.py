"""README and description rendering: CommonMark (markdown-it-py), then an allow-list sanitiser (nh3).

Raw HTML in the Markdown is not rendered at all, and the output is sanitised anyway, so no
script, iframe, event handler or javascript: link reaches the page whatever the input.

No image is shown: one from another host would tell it who reads the page (a tracking pixel),
and the registry does not serve the files inside a package. An image on another host becomes a
link to it, any other image its alt text. Table alignment is a class, as the page's
Content-Security-Policy refuses inline styles.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import nh3
from markdown_it import MarkdownIt
from markdown_it.token import Token
from markupsafe import Markup

ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "code", "del", "em", "h3", "h4", "h5", "h6", "hr", "i", "li",
    "ol", "p", "pre", "s", "strong", "sub", "sup", "table", "tbody", "td", "th", "thead", "tr", "ul",
}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "code": {"class"}, "ol": {"start"}}
ALIGN_CLASSES = {"align-left", "align-center", "align-right"}  # styled in static/style.css
URL_SCHEMES = {"http", "https", "mailto"}
LINK_REL = "nofollow noopener noreferrer ugc"
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
        elif token.type in ("th_open", "td_open") and "style" in token.attrs:
            # markdown-it writes style="text-align:right"
            token.attrs = {"class": "align-" + str(token.attrs["style"]).split(":")[-1]}
        elif token.type == "inline" and token.children:
            token.children = _without_images(token.children)
    html = _parser.renderer.render(tokens, _parser.options, {})
    clean = nh3.clean(html, tags=ALLOWED_TAGS, attributes=ALLOWED_ATTRIBUTES, url_schemes=URL_SCHEMES,
                      link_rel=LINK_REL, allowed_classes={"th": ALIGN_CLASSES, "td": ALIGN_CLASSES})
    # A code block scrolls sideways: focusable, so it scrolls from the keyboard too (WCAG 2.1.1). The
    # sanitiser leaves <pre> without attributes, so this adds the only one.
    return Markup(clean.replace("<pre>", '<pre tabindex="0">'))


def _without_images(children: list[Token]) -> list[Token]:
    """Each image as a link to it when it is on another host (and not already inside a link), else its alt text."""
    result: list[Token] = []
    link_depth = 0
    for token in children:
        link_depth += {"link_open": 1, "link_close": -1}.get(token.type, 0)
        if token.type != "image":
            result.append(token)
            continue
        src = str(token.attrGet("src") or "")
        alt = _parser.renderer.renderInlineAsText(token.children or [], _parser.options, {})
        if urlsplit(src).netloc and not link_depth:
            attrs = {"href": src, **({"title": token.attrGet("title")} if token.attrGet("title") else {})}
            result += [Token("link_open", "a", 1, attrs=attrs), Token("text", "", 0, content=alt or src),
                       Token("link_close", "a", -1)]
        else:
            result.append(Token("text", "", 0, content=alt))
    return result
