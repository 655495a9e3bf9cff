package dev.cordon.server;

import static com.microsoft.playwright.assertions.PlaywrightAssertions.assertThat;

import com.microsoft.playwright.Browser;
import com.microsoft.playwright.BrowserType;
import com.microsoft.playwright.Page;
import com.microsoft.playwright.Playwright;
import com.microsoft.playwright.assertions.PlaywrightAssertions;
import com.microsoft.playwright.options.FilePayload;
import dev.cordon.protocol.control.ControlEvent;
import dev.cordon.testkit.Scripted;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The dashboard in a real browser (Debian's Chromium driven by Playwright) against a real daemon,
 * a real bubblewrap sandbox and the scripted fake model: log in with the one-time link, chat, watch
 * the tool call arrive live, approve it from the inbox, see the agent continue, read the audit page.
 * Screenshots of each page go to {@code target/dashboard-screenshots/}.
 */
class DashboardBrowserTest extends DaemonTestBase {
    static final Path SHOTS = Path.of("target/dashboard-screenshots");
    /** FACTS.md: Debian's Chromium as root in a container. */
    static final List<String> FLAGS = List.of(
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run");

    static final String XSS = "<img src=x onerror=\"document.title='pwned'\">";

    @Test
    void anOwnerLogsInChatsApprovesTheToolCallFromTheInboxAndReadsTheAudit() throws Exception {
        WebApiTest.dashboardWithAskingBash(home);
        model.enqueue(
                Scripted.toolCall("bash", "{\"command\":\"echo from the browser > browser.txt\"}"),
                // The agent is untrusted: its reply tries to run script in the operator's browser.
                Scripted.text("Done: browser.txt is written. " + XSS));
        startDaemon();
        ControlEvent.DashboardLink link = ownersLink();

        try (Playwright playwright = playwright();
                Browser browser = chromium(playwright)) {
            List<String> consoleErrors = new java.util.concurrent.CopyOnWriteArrayList<>();
            Page page = loggedIn(browser, link, consoleErrors);
            assertThat(page.locator("h1")).hasText("Overview");
            shot(page, "overview");

            page.navigate(link.url() + "/#/chat/main");
            page.locator("form.chat input[name=text]").fill("please write browser.txt");
            page.locator("form.chat button").click();
            assertThat(page.locator(".msg.tool[data-tool=bash]")).containsText("from the browser");
            assertThat(page.locator("#pending-count")).hasText("1");
            shot(page, "chat-tool-call");

            page.locator("a[href='#/approvals']").click();
            assertThat(page.locator(".card pre")).containsText("echo from the browser > browser.txt");
            shot(page, "approvals");
            // Back in the chat while the turn waits: the message is there, read from the store.
            page.navigate(link.url() + "/#/chat/main");
            assertThat(page.locator("#chat-log")).containsText("please write browser.txt");
            page.locator("a[href='#/approvals']").click();
            page.locator(".card button[data-decision=once]").click();
            assertThat(page.locator("main")).containsText("Nothing is waiting for you.");

            page.navigate(link.url() + "/#/chat/main");
            assertThat(page.locator("#chat-log")).containsText("Done: browser.txt is written. " + XSS);
            assertThat(page).hasTitle("Cordon");
            assertThat(page.locator("#chat-log img")).hasCount(0);
            shot(page, "chat-reply");
            org.assertj.core.api.Assertions.assertThat(home.resolve("agents/main/workspace/browser.txt"))
                    .hasContent("from the browser");

            page.locator("a[href='#/audit']").click();
            assertThat(page.locator("#chain")).hasClass("ok");
            assertThat(page.locator("table")).containsText("approval.answer");
            assertThat(page.locator("table")).containsText("web:owner");
            shot(page, "audit");

            page.navigate(link.url() + "/#/agents/main");
            assertThat(page.locator("#policy")).containsText("bash");
            assertThat(page.locator("main table")).containsText("web:main/owner");
            shot(page, "agent");

            page.navigate(link.url() + "/#/sessions/1");
            assertThat(page.locator("#transcript")).containsText("from the browser");
            shot(page, "session");
            org.assertj.core.api.Assertions.assertThat(consoleErrors)
                    .as("no script errors, no CSP violations")
                    .isEmpty();
        }
    }

    @Test
    void aPersonAttachesAFileTheAgentReadsItAndATooLargeOneSaysWhyItWasNotSent() throws Exception {
        Files.writeString(home.resolve("cordon.yaml"), WebApiTest.HTTP_ON + "files:\n  max_mb: 1\n");
        model.enqueue(
                Scripted.toolCall("bash", "{\"command\":\"cat /workspace/inbox/*/hello.txt\"}"),
                Scripted.text("I read your file."));
        startDaemon();
        ControlEvent.DashboardLink link = ownersLink();

        try (Playwright playwright = playwright();
                Browser browser = chromium(playwright)) {
            Page page = loggedIn(browser, link, new java.util.concurrent.CopyOnWriteArrayList<>());
            page.navigate(link.url() + "/#/chat/main");
            page.locator("form.chat input[type=file]")
                    .setInputFiles(new FilePayload(
                            "hello.txt", "text/plain", "hello from a file\n".getBytes(StandardCharsets.UTF_8)));
            assertThat(page.locator("form.chat .attached")).hasText("hello.txt");
            page.locator("form.chat button").click();
            assertThat(page.locator("#chat-log")).containsText("I read your file.");
            org.assertj.core.api.Assertions.assertThat(
                            EndToEndTest.toolResults(model.requests().get(1)))
                    .anySatisfy(
                            r -> org.assertj.core.api.Assertions.assertThat(r).contains("hello from a file"));

            page.locator("form.chat input[type=file]")
                    .setInputFiles(new FilePayload("big.bin", "application/octet-stream", new byte[1024 * 1024 + 1]));
            page.locator("form.chat button").click();
            assertThat(page.locator("#chat-log .msg.deny[role=alert]"))
                    .containsText("Not sent: file 'big.bin' is larger than 1 MiB");
            shot(page, "chat-files");
        }
    }

    @Test
    void anAdminProposesAnEgressRuleEditsTheInstructionsPausesATaskAndSeesTheUsageChart() throws Exception {
        List<String> seen = new java.util.concurrent.CopyOnWriteArrayList<>();
        com.sun.net.httpserver.HttpServer origin = EgressTest.origin(seen);
        try {
            int port = origin.getAddress().getPort();
            Files.writeString(home.resolve("cordon.yaml"), WebApiTest.HTTP_ON);
            model.enqueue(
                    Scripted.toolCall(
                            "bash",
                            EndToEndTest.json("curl -s -m 20 --noproxy '' -x http://127.0.0.1:3128 http://127.0.0.1:"
                                    + port + "/report")),
                    Scripted.text("The host refused it."));
            startDaemon();
            ask("fetch the report");
            try (ControlClient client = new ControlClient(daemon.controlSocket())) {
                // The proxy's own question about the host is turned down; the rule comes from the page.
                client.send(new dev.cordon.protocol.control.ControlRequest.ApprovalList(false));
                long asked = client.await(ControlEvent.ApprovalListing.class)
                        .approvals()
                        .getFirst()
                        .id();
                client.send(new dev.cordon.protocol.control.ControlRequest.ApprovalDeny(asked, "not now"));
                client.await(ControlEvent.ApprovalDecided.class);
                client.send(new dev.cordon.protocol.control.ControlRequest.TasksCreate(
                        "main", "every", "1h", null, "Check the backup.", null, null, null));
                client.await(ControlEvent.TaskDetail.class);
            }
            ControlEvent.DashboardLink link = ownersLink();

            try (Playwright playwright = playwright();
                    Browser browser = chromium(playwright)) {
                List<String> consoleErrors = new java.util.concurrent.CopyOnWriteArrayList<>();
                Page page = loggedIn(browser, link, consoleErrors);

                page.locator("a[href='#/egress']").click();
                assertThat(page.locator("section[data-agent=main]")).containsText("127.0.0.1:" + port);
                shot(page, "egress");
                page.locator("section[data-agent=main] button[data-propose]").click();
                assertThat(page.locator("a.proposed")).containsText("approve it always");
                // The proposal's own audit entry redraws the page (150 ms later): the answer stays.
                page.waitForTimeout(1000);
                assertThat(page.locator("a.proposed")).containsText("approve it always");
                page.locator("a.proposed").click();
                assertThat(page.locator(".card pre")).containsText("127.0.0.1");
                page.locator(".card button[data-decision=always]").click();
                assertThat(page.locator("main")).containsText("Nothing is waiting for you.");

                page.navigate(link.url() + "/#/agents/main");
                assertThat(page.locator("#policy")).containsText("127.0.0.1:" + port);
                assertThat(page.locator("#policy")).containsText("approved always by web:owner");
                page.locator("textarea#instructions").fill("# main\n\nAnswer in one line.\n");
                page.locator("#save-instructions").click();
                assertThat(page.locator("#instructions-status")).containsText("Saved AGENTS.md");
                page.locator("button[data-action=pause]").click();
                assertThat(page.locator("button[data-action=resume]")).isVisible();
                assertThat(page.locator("svg#usage-tokens rect.bar")).hasCount(30);
                assertThat(page.locator("svg#usage-cost")).isVisible();
                shot(page, "agent-edit");
                org.assertj.core.api.Assertions.assertThat(home.resolve("agents/main/AGENTS.md"))
                        .hasContent("# main\n\nAnswer in one line.");
                org.assertj.core.api.Assertions.assertThat(consoleErrors)
                        .as("no script errors, no CSP violations")
                        .isEmpty();
            }
            org.assertj.core.api.Assertions.assertThat(audited("task.pause"))
                    .singleElement()
                    .satisfies(e -> org.assertj.core.api.Assertions.assertThat(
                                    e.actor().id())
                            .isEqualTo("web:owner"));
            org.assertj.core.api.Assertions.assertThat(audited("egress.propose"))
                    .hasSize(1);
            org.assertj.core.api.Assertions.assertThat(audited("agent.edit")).hasSize(1);
        } finally {
            origin.stop(0);
        }
    }

    static Playwright playwright() {
        return Playwright.create(
                new Playwright.CreateOptions().setEnv(Map.of("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")));
    }

    static Browser chromium(Playwright playwright) {
        return playwright
                .chromium()
                .launch(new BrowserType.LaunchOptions()
                        .setExecutablePath(Path.of("/usr/bin/chromium"))
                        .setArgs(FLAGS)
                        .setHeadless(true));
    }

    /** The owner's one-time login link, with the screenshot folder made. */
    ControlEvent.DashboardLink ownersLink() throws Exception {
        // The first turn starts a sandbox and the runner's JVM: slower than a click on a loaded 2-CPU box.
        PlaywrightAssertions.setDefaultAssertionTimeout(60_000);
        Files.createDirectories(SHOTS);
        return WebClient.link(daemon.controlSocket(), null, false);
    }

    /**
     * A new page logged in with {@code link}; its console errors (script errors and CSP violations)
     * go to {@code consoleErrors}.
     */
    static Page loggedIn(Browser browser, ControlEvent.DashboardLink link, List<String> consoleErrors) {
        Page page = browser.newPage();
        page.onConsoleMessage(m -> {
            if (m.type().equals("error")) {
                consoleErrors.add(m.text());
            }
        });
        page.navigate(link.loginUrl());
        assertThat(page.locator("#who")).hasText("web:owner");
        return page;
    }

    /** Saves the whole page as {@code target/dashboard-screenshots/NAME.png}, a test artifact. */
    private static void shot(Page page, String name) {
        page.screenshot(new Page.ScreenshotOptions()
                .setPath(SHOTS.resolve(name + ".png"))
                .setFullPage(true));
    }
}
