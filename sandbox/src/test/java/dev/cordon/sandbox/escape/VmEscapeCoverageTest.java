package dev.cordon.sandbox.escape;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.reflect.Method;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

/**
 * {@link VmEscapeTest} gathers the suite's attacks into two boots by hand, so a scenario added to
 * {@link EscapeSuite} would silently miss the VM. This check fails until each one is placed in a
 * boot or excluded with a reason ({@link VmEscapeTest#COVERAGE}). No VM is booted.
 */
class VmEscapeCoverageTest {
    /** {@code Nested.method} of every scenario in the suite. */
    static Set<String> suiteScenarios() {
        Set<String> names = new TreeSet<>();
        for (Class<?> nested : EscapeSuite.class.getDeclaredClasses()) {
            if (!nested.isAnnotationPresent(Nested.class)) {
                continue;
            }
            for (Method m : nested.getDeclaredMethods()) {
                if (m.isAnnotationPresent(Test.class)) {
                    names.add(nested.getSimpleName() + "." + m.getName());
                }
            }
        }
        return names;
    }

    @Test
    void everySuiteScenarioIsInAVmBootOrExcludedWithAReason() {
        Set<String> scenarios = suiteScenarios();
        assertThat(scenarios).as("control: the suite's scenarios are found").hasSizeGreaterThan(60);

        List<String> unplaced = new ArrayList<>(scenarios);
        unplaced.removeAll(VmEscapeTest.COVERAGE.keySet());
        assertThat(unplaced)
                .as("scenarios of EscapeSuite that VmEscapeTest.COVERAGE neither places in a boot nor excludes")
                .isEmpty();
        assertThat(new TreeSet<>(VmEscapeTest.COVERAGE.keySet()))
                .as("COVERAGE names only scenarios that exist")
                .isSubsetOf(scenarios);
    }

    @Test
    void eachPlacementNamesABootAndEachExclusionGivesItsReason() {
        List<String> boots = Arrays.asList(VmEscapeTest.WALLS, VmEscapeTest.LIMITS);
        VmEscapeTest.COVERAGE.forEach((scenario, placement) -> {
            if (!boots.contains(placement)) {
                assertThat(placement)
                        .as("the exclusion of %s", scenario)
                        .startsWith(VmEscapeTest.EXCLUDED)
                        .hasSizeGreaterThan(VmEscapeTest.EXCLUDED.length() + 40);
            }
        });
    }
}
