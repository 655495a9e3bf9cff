package dev.cordon.runner.tools;

import java.util.Set;
import org.jsoup.Jsoup;
import org.jsoup.nodes.Document;
import org.jsoup.nodes.Element;
import org.jsoup.nodes.Node;
import org.jsoup.nodes.TextNode;
import org.jsoup.select.NodeVisitor;

/**
 * A web page as text a model reads well: the title, headings as {@code #} lines, paragraphs and
 * list items on their own lines, links as {@code text (url)}, and none of the scripts, styles or
 * navigation chrome.
 */
final class HtmlText {
    private static final Set<String> BLOCKS = Set.of(
            "p",
            "div",
            "section",
            "article",
            "main",
            "header",
            "footer",
            "aside",
            "blockquote",
            "pre",
            "table",
            "tr",
            "ul",
            "ol",
            "dl",
            "dt",
            "dd",
            "form",
            "figure",
            "figcaption",
            "br",
            "hr");
    private static final String DROPPED = "script, style, noscript, template, svg, iframe, nav, head";

    private HtmlText() {}

    static String render(String html, String baseUrl) {
        Document doc = Jsoup.parse(html, baseUrl);
        String title = doc.title().strip();
        doc.select(DROPPED).remove();
        StringBuilder out = new StringBuilder();
        if (!title.isEmpty()) {
            out.append("Title: ").append(title).append("\n\n");
        }
        doc.body().traverse(new NodeVisitor() {
            @Override
            public void head(Node node, int depth) {
                if (node instanceof TextNode text) {
                    String words = text.text().replaceAll("\\s+", " ");
                    if (!words.isBlank()) {
                        if (out.isEmpty() || out.charAt(out.length() - 1) == '\n') {
                            words = words.stripLeading();
                        }
                        out.append(words);
                    }
                } else if (node instanceof Element e) {
                    String tag = e.normalName();
                    if (tag.length() == 2 && tag.charAt(0) == 'h' && Character.isDigit(tag.charAt(1))) {
                        newParagraph(out)
                                .append("#".repeat(tag.charAt(1) - '0'))
                                .append(' ');
                    } else if (tag.equals("li")) {
                        newLine(out).append("- ");
                    } else if (BLOCKS.contains(tag)) {
                        newLine(out);
                    }
                }
            }

            @Override
            public void tail(Node node, int depth) {
                if (node instanceof Element e) {
                    String tag = e.normalName();
                    if (tag.equals("a") && e.hasAttr("href")) {
                        String href = e.absUrl("href");
                        if (!href.isEmpty() && !href.equals(e.text().strip())) {
                            out.append(" (").append(href).append(')');
                        }
                    } else if (tag.equals("p") || tag.startsWith("h") && tag.length() == 2) {
                        newParagraph(out);
                    }
                }
            }
        });
        return out.toString()
                .replaceAll("[ \\t]+\\n", "\n")
                .replaceAll("\\n{3,}", "\n\n")
                .strip();
    }

    private static StringBuilder newLine(StringBuilder out) {
        if (!out.isEmpty() && out.charAt(out.length() - 1) != '\n') {
            out.append('\n');
        }
        return out;
    }

    private static StringBuilder newParagraph(StringBuilder out) {
        newLine(out);
        if (out.length() >= 2 && out.charAt(out.length() - 2) != '\n') {
            out.append('\n');
        }
        return out;
    }
}
