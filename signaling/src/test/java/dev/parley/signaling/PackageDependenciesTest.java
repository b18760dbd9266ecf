package dev.parley.signaling;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

/** The package rules of docs/architecture.md, checked on the compiled gateway so a new cycle fails the build. */
class PackageDependenciesTest {

    private static JavaClasses gateway;

    @BeforeAll
    static void importGateway() {
        gateway = new ClassFileImporter().withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
                .importPackages("dev.parley.signaling");
    }

    @Test
    void noTwoGatewayPackagesDependOnEachOther() {
        slices().matching("dev.parley.signaling.(*)..").should().beFreeOfCycles().check(gateway);
    }

    @Test
    void theGatewayReachesTheMediaServerOnlyThroughItsApiAndCompositionTypes() {
        noClasses().that().resideInAPackage("dev.parley.signaling..")
                .should().dependOnClassesThat(com.tngtech.archunit.base.DescribedPredicate.describe(
                        "media-server classes other than api, MediaServer and MediaConfig",
                        type -> type.getPackageName().startsWith("dev.parley.media")
                                && !type.getPackageName().equals("dev.parley.media.api")
                                && !type.getName().equals("dev.parley.media.MediaServer")
                                && !type.getName().equals("dev.parley.media.MediaConfig")
                                && !type.getName().startsWith("dev.parley.media.MediaConfig$")))
                .check(gateway);
    }
}
