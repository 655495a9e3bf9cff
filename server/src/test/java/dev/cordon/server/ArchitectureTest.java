package dev.cordon.server;

import static com.tngtech.archunit.base.DescribedPredicate.not;
import static com.tngtech.archunit.core.domain.JavaClass.Predicates.belongToAnyOf;
import static com.tngtech.archunit.core.domain.JavaClass.Predicates.resideInAPackage;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;
import static org.assertj.core.api.Assertions.assertThat;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import dev.cordon.core.Domain;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** DESIGN.md's module rules, checked on the compiled classes of every module on this class path. */
class ArchitectureTest {
    static JavaClasses classes;

    @BeforeAll
    static void load() {
        classes = new ClassFileImporter()
                .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
                .importPackages("dev.cordon");
    }

    @Test
    void runnerNeverDependsOnHostModules() {
        noClasses()
                .that()
                .resideInAPackage("dev.cordon.runner..")
                .should()
                .dependOnClassesThat()
                .resideInAnyPackage(
                        "dev.cordon.core..",
                        "dev.cordon.store..",
                        "dev.cordon.sandbox..",
                        "dev.cordon.egress..",
                        "dev.cordon.server..",
                        "dev.cordon.cli..")
                .check(classes);
    }

    @Test
    void nothingDependsOnTheServer() {
        noClasses()
                .that()
                .resideOutsideOfPackage("dev.cordon.server..")
                .should()
                .dependOnClassesThat()
                .resideInAPackage("dev.cordon.server..")
                .check(classes);
    }

    @Test
    void protocolDependsOnNothingOfCordon() {
        noClasses()
                .that()
                .resideInAPackage("dev.cordon.protocol..")
                .should()
                .dependOnClassesThat()
                .resideInAnyPackage("dev.cordon.core..", "dev.cordon.runner..", "dev.cordon.server..")
                .check(classes);
    }

    @Test
    void coreDependsOnNoImplementationModule() {
        noClasses()
                .that()
                .resideInAPackage("dev.cordon.core..")
                .should()
                .dependOnClassesThat()
                .resideInAnyPackage(
                        "dev.cordon.store..",
                        "dev.cordon.sandbox..",
                        "dev.cordon.egress..",
                        "dev.cordon.runner..",
                        "dev.cordon.server..")
                .check(classes);
    }

    @Test
    void channelModulesSeeOnlyCoresChannelSpiAndNoOtherCordonModule() {
        noClasses()
                .that()
                .resideInAPackage("dev.cordon.channel..")
                .should()
                .dependOnClassesThat()
                .resideInAnyPackage(
                        "dev.cordon.store..",
                        "dev.cordon.sandbox..",
                        "dev.cordon.egress..",
                        "dev.cordon.runner..",
                        "dev.cordon.server..",
                        "dev.cordon.cli..",
                        "dev.cordon.protocol..")
                .check(classes);
        noClasses()
                .that()
                .resideInAPackage("dev.cordon.channel..")
                .should()
                .dependOnClassesThat(resideInAPackage("dev.cordon.core..")
                        .and(not(resideInAPackage("dev.cordon.core.channel..")))
                        .and(not(belongToAnyOf(Domain.class))))
                .because("an adapter knows platform ids only, never the host's agents or sessions (DESIGN.md)")
                .check(classes);
    }

    @Test
    void channelModulesDoNotDependOnEachOther() {
        slices().matching("dev.cordon.channel.(*)..")
                .should()
                .notDependOnEachOther()
                .check(classes);
    }

    @Test
    void theChannelRulesSeeTheChannelModules() {
        assertThat(classes.stream().map(c -> c.getPackageName()))
                .contains(
                        "dev.cordon.channel.irc",
                        "dev.cordon.channel.email",
                        "dev.cordon.channel.telegram",
                        "dev.cordon.channel.matrix",
                        "dev.cordon.channel.slack",
                        "dev.cordon.channel.webhook",
                        "dev.cordon.channel.github",
                        "dev.cordon.channel.whatsapp",
                        "dev.cordon.channel.discord");
    }
}
