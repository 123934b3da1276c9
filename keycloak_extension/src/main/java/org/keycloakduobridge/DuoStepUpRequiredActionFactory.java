package org.keycloakduobridge;

import org.jboss.logging.Logger;
import org.keycloak.Config;
import org.keycloak.authentication.RequiredActionFactory;
import org.keycloak.authentication.RequiredActionProvider;
import org.keycloak.common.Version;
import org.keycloak.models.KeycloakSession;
import org.keycloak.models.KeycloakSessionFactory;

/**
 * Registers the {@code duo-step-up} required action with Keycloak.
 *
 * <p>Keycloak's own classes only: the jar bundles no third-party library.
 */
public final class DuoStepUpRequiredActionFactory implements RequiredActionFactory {

    /** The provider id, also the alias under which realms register the action. */
    public static final String PROVIDER_ID = "duo-step-up";

    /** {@code --spi-required-action--duo-step-up--allow-unsupported-keycloak=true}. */
    static final String ALLOW_UNSUPPORTED = "allow-unsupported-keycloak";

    private static final Logger LOG = Logger.getLogger(DuoStepUpRequiredActionFactory.class);
    private static final DuoStepUpRequiredAction SINGLETON = new DuoStepUpRequiredAction();

    private boolean allowUnsupported;

    @Override
    public String getId() {
        return PROVIDER_ID;
    }

    @Override
    public String getDisplayText() {
        return "Duo two-factor step-up";
    }

    @Override
    public RequiredActionProvider create(KeycloakSession session) {
        return SINGLETON;
    }

    @Override
    public void init(Config.Scope config) {
        // One server-wide option, the escape hatch below; everything else is per realm.
        allowUnsupported = config.getBoolean(ALLOW_UNSUPPORTED, Boolean.FALSE);
    }

    /**
     * Logs the extension's and Keycloak's versions, and refuses to start on a Keycloak outside
     * the range the jar was built for. Refusing the start, not skipping registration: a
     * Keycloak that drops an unknown required action lets every login through without Duo.
     */
    @Override
    public void postInit(KeycloakSessionFactory factory) {
        BuildInfo build = BuildInfo.load();
        String server = Version.VERSION;
        LOG.infof("keycloak-duo-bridge extension %s on Keycloak %s (built against Keycloak %s,"
                + " supports %s)", build.version, server, build.builtAgainst, build.range());
        if (build.supports(server)) {
            return;
        }
        String problem = String.format("keycloak-duo-bridge extension %s does not support"
                + " Keycloak %s: it was built against %s and supports %s. Install the release"
                + " for this Keycloak or rebuild it with `keycloak-duo-bridge extension build"
                + " --keycloak-home <dir>`", build.version, server, build.builtAgainst,
                build.range());
        if (allowUnsupported) {
            LOG.warnf("%s; starting anyway because %s=true", problem, ALLOW_UNSUPPORTED);
            return;
        }
        LOG.errorf("%s; refusing to start (set --spi-required-action--%s--%s=true to override)",
                problem, PROVIDER_ID, ALLOW_UNSUPPORTED);
        throw new IllegalStateException(problem);
    }

    @Override
    public void close() {
        // Stateless.
    }
}
