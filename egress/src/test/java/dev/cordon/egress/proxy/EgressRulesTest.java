package dev.cordon.egress.proxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.InetAddress;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;

class EgressRulesTest {
    static EgressRule allow(int i, String host) {
        return new EgressRule("egress.allow[" + i + "]", host, EgressRule.WEB_PORTS, Set.of(), List.of());
    }

    static EgressRule deny(int i, String host) {
        return new EgressRule("egress.deny[" + i + "]", host, EgressRule.WEB_PORTS, Set.of(), List.of());
    }

    static EgressRules.Request get(String host, String path) {
        return new EgressRules.Request(host, 80, "GET", path);
    }

    static EgressRules.Request connect(String host, int port) {
        return new EgressRules.Request(host, port, null, null);
    }

    @Test
    void whatNoRuleAllowsIsDeniedAndTheDenialSaysSo() {
        EgressRules.Verdict v = EgressRules.DENY_ALL.decide(connect("example.com", 443));

        assertThat(v.allowed()).isFalse();
        assertThat(v.rule()).isNull();
        assertThat(v.reason()).contains("no egress.allow rule matches example.com:443", "denied by default");
    }

    @Test
    void denyWinsOverAllowWhateverTheOrder() {
        EgressRules rules = new EgressRules(List.of(allow(0, "*.example.com")), List.of(deny(0, "evil.example.com")));

        assertThat(rules.decide(connect("api.example.com", 443)).allowed()).isTrue();
        EgressRules.Verdict v = rules.decide(connect("evil.example.com", 443));
        assertThat(v.allowed()).isFalse();
        assertThat(v.ruleLabel()).isEqualTo("egress.deny[0]");
        assertThat(v.reason()).contains("denied by egress.deny[0] evil.example.com");
    }

    @Test
    void aWildcardCoversHostsBelowTheDomainButNotTheDomainNorLookalikes() {
        EgressRules rules = new EgressRules(List.of(allow(0, "*.github.com")), List.of());

        assertThat(rules.decide(connect("api.github.com", 443)).allowed()).isTrue();
        assertThat(rules.decide(connect("a.b.github.com", 443)).allowed()).isTrue();
        assertThat(rules.decide(connect("github.com", 443)).allowed()).isFalse();
        assertThat(rules.decide(connect("evilgithub.com", 443)).allowed()).isFalse();
        assertThat(rules.decide(connect("github.com.evil.net", 443)).allowed()).isFalse();
    }

    @Test
    void portsDefaultToTheWebPortsAndOtherwiseMustMatch() {
        EgressRule ssh = new EgressRule("egress.allow[1]", "git.example.com", 22, Set.of(), List.of());
        EgressRules rules = new EgressRules(List.of(allow(0, "example.com"), ssh), List.of());

        assertThat(rules.decide(connect("example.com", 443)).allowed()).isTrue();
        assertThat(rules.decide(connect("example.com", 80)).allowed()).isTrue();
        assertThat(rules.decide(connect("example.com", 8443)).allowed()).isFalse();
        assertThat(rules.decide(connect("git.example.com", 22)).allowed()).isTrue();
        assertThat(rules.decide(connect("git.example.com", 443)).allowed()).isFalse();
    }

    @Test
    void methodAndPathRulesJudgeReadableRequestsButCannotOpenATunnel() {
        EgressRule readOnly =
                new EgressRule("egress.allow[0]", "api.example.com", 80, Set.of("get"), List.of("/repos/**"));
        EgressRules rules = new EgressRules(List.of(readOnly), List.of());

        assertThat(rules.decide(get("api.example.com", "/repos/a/b/issues")).allowed())
                .isTrue();
        assertThat(rules.decide(new EgressRules.Request("api.example.com", 80, "POST", "/repos/a"))
                        .allowed())
                .isFalse();
        assertThat(rules.decide(get("api.example.com", "/admin")).allowed()).isFalse();
        EgressRules.Verdict tunnel = rules.decide(connect("api.example.com", 80));
        assertThat(tunnel.allowed()).isFalse();
        assertThat(tunnel.reason()).contains("cannot see inside an HTTPS tunnel");
    }

    @Test
    void pathGlobsStarStaysInASegmentAndDoubleStarCrossesThem() {
        assertThat(PathGlob.matches("/repos/*", "/repos/a")).isTrue();
        assertThat(PathGlob.matches("/repos/*", "/repos/a/b")).isFalse();
        assertThat(PathGlob.matches("/repos/**", "/repos/a/b")).isTrue();
        assertThat(PathGlob.matches("/*/issues", "/x/issues")).isTrue();
        assertThat(PathGlob.matches("/v1/*.json", "/v1/data.json")).isTrue();
        assertThat(PathGlob.matches("/v1/*.json", "/v1/data.jsonx")).isFalse();
    }

    @Test
    void aHostilePathCannotMakeGlobMatchingSlow() {
        // A backtracking matcher takes exponential time here; the memoised one is linear-ish.
        String path = "/" + "a".repeat(8_000) + "b";
        assertThat(PathGlob.matches("/**a**a**a**a**a**a**c", path)).isFalse();
    }

    @Test
    void privateAddressesNeedARuleThatNamesTheAddressOrItsRange() throws Exception {
        InetAddress inside = InetAddress.getByName("10.1.2.3");
        Optional<String> why = Optional.of("a private address (RFC 1918)");
        EgressRules byName = new EgressRules(List.of(allow(0, "db.corp")), List.of());
        EgressRules byRange = new EgressRules(List.of(allow(0, "db.corp"), allow(1, "10.0.0.0/8")), List.of());

        EgressRules.Verdict refused = byName.decideAddress(inside, 443, why);
        assertThat(refused.allowed()).isFalse();
        assertThat(refused.reason()).contains("10.1.2.3 is a private address", "naming that address or its range");
        assertThat(byRange.decideAddress(inside, 443, why).ruleLabel()).isEqualTo("egress.allow[1]");
        assertThat(byName.decideAddress(InetAddress.getByName("93.184.215.14"), 443, Optional.empty())
                        .allowed())
                .isTrue();
    }

    @Test
    void aDenyRangeBlocksANameThatResolvesIntoIt() throws Exception {
        EgressRules rules = new EgressRules(List.of(allow(0, "*.example.com")), List.of(deny(0, "93.184.0.0/16")));

        EgressRules.Verdict v = rules.decideAddress(InetAddress.getByName("93.184.215.14"), 443, Optional.empty());

        assertThat(v.allowed()).isFalse();
        assertThat(v.ruleLabel()).isEqualTo("egress.deny[0]");
    }

    @Test
    void malformedRulesAreRefusedWithTheirLabel() {
        assertThatThrownBy(() -> allow(3, "exa mple.com"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("egress.allow[3].host");
        assertThatThrownBy(() -> allow(3, "*")).hasMessageContaining("egress.allow[3].host");
        assertThatThrownBy(() -> new EgressRule("egress.deny[0]", "a.com", 70_000, Set.of(), List.of()))
                .hasMessageContaining("egress.deny[0].port");
        assertThatThrownBy(() -> new EgressRule("egress.deny[0]", "a.com", 80, Set.of(), List.of("admin")))
                .hasMessageContaining("must start with /");
        assertThatThrownBy(() -> allow(0, "10.0.0.0/33")).hasMessageContaining("prefix length");
    }

    @Test
    void theGuardKnowsTheSpecialRangesIncludingMappedForms() throws Exception {
        AddressGuard guard = new AddressGuard(Set.of(InetAddress.getByName("203.0.113.7")));

        assertThat(guard.special(InetAddress.getByName("127.0.0.1"))).contains("a loopback address");
        assertThat(guard.special(InetAddress.getByName("169.254.169.254"))).contains("a cloud metadata address");
        assertThat(guard.special(InetAddress.getByName("10.9.9.9"))).contains("a private address (RFC 1918)");
        assertThat(guard.special(InetAddress.getByName("172.31.0.1"))).contains("a private address (RFC 1918)");
        assertThat(guard.special(InetAddress.getByName("100.100.100.200"))).isPresent();
        assertThat(guard.special(InetAddress.getByName("203.0.113.7")))
                .contains("an address of the Cordon host itself");
        assertThat(guard.special(InetAddress.getByName("::1"))).contains("a loopback address");
        assertThat(guard.special(InetAddress.getByName("fd00:ec2::254"))).contains("a cloud metadata address");
        assertThat(guard.special(InetAddress.getByName("fe80::1"))).contains("a link-local address");
        assertThat(guard.special(InetAddress.getByName("64:ff9b::a9fe:a9fe"))).contains("a cloud metadata address");
        assertThat(guard.special(InetAddress.getByName("::ffff:7f00:1"))).contains("a loopback address");
        assertThat(guard.special(InetAddress.getByName("93.184.215.14"))).isEmpty();
        assertThat(guard.special(InetAddress.getByName("2606:2800:21f:cb07:6820:80da:af6b:8b2c")))
                .isEmpty();
    }
}
