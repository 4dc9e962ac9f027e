"""README rendering loads nothing from other hosts and needs no inline style."""

from __future__ import annotations

from registry.catalog.markdown import render_markdown

REL = 'rel="nofollow noopener noreferrer ugc"'


def test_remote_images_become_links_showing_the_alt_text():
    html = render_markdown('![주차장 지도](https://tracker.example/pixel.gif "지도")')
    assert "<img" not in html
    assert f'<a href="https://tracker.example/pixel.gif" title="지도" {REL}>주차장 지도</a>' in html


def test_a_remote_image_without_alt_text_shows_its_address():
    html = render_markdown("![](https://tracker.example/pixel.gif)")
    assert "<img" not in html and ">https://tracker.example/pixel.gif</a>" in html


def test_images_inside_the_package_are_not_served_so_only_their_alt_text_shows():
    html = render_markdown("![구성도](docs/architecture.png) 와 ![로고](//cdn.example/logo.png)")
    assert "<img" not in html and "docs/architecture.png" not in html
    assert "<p>구성도 와 " in html  # plain text: there is nothing safe to link to
    assert f'<a href="//cdn.example/logo.png" {REL}>로고</a>' in html  # another host: a link, never loaded


def test_an_image_inside_a_link_leaves_one_link_with_the_alt_text():
    html = render_markdown("[![빌드 상태](https://ci.example/badge.svg)](https://ci.example/build)")
    assert "<img" not in html and "badge.svg" not in html
    assert f'<a href="https://ci.example/build" {REL}>빌드 상태</a>' in html


def test_data_and_script_images_are_dropped():
    html = render_markdown("![점](data:image/gif;base64,R0lGODlhAQABAAAAACw=) ![악성](javascript:alert(1))")
    assert "<img" not in html and "data:" not in html and 'href="javascript' not in html
    assert "<p>점 " in html


def test_links_tell_search_engines_and_the_target_nothing():
    html = render_markdown("[문서](https://example.org/docs)")
    assert html == f'<p><a href="https://example.org/docs" {REL}>문서</a></p>\n'


def test_table_alignment_uses_classes_not_inline_styles():
    html = render_markdown("| 구역 | 대수 | 비고 |\n|:--|--:|:-:|\n| 가 | 12 | 없음 |\n")
    assert "style=" not in html
    for cell in ('<th class="align-left">구역</th>', '<th class="align-right">대수</th>',
                 '<td class="align-center">없음</td>'):
        assert cell in html



def test_code_blocks_scroll_from_the_keyboard_and_raw_pre_stays_text():
    html = render_markdown("설치:\n\n```sh\ndocker compose -f deploy/compose.yaml up -d\n```\n\n`<pre>` 태그 <pre tabindex=5>")
    assert html.count('<pre tabindex="0">') == 1 and "<pre tabindex=5" not in html
    assert "&lt;pre&gt;" in html
