package org.keycloakduobridge;

import java.util.Collections;
import java.util.List;
import org.keycloak.Config;
import org.keycloak.authentication.Authenticator;
import org.keycloak.authentication.AuthenticatorFactory;
import org.keycloak.models.AuthenticationExecutionModel;
import org.keycloak.models.KeycloakSession;
import org.keycloak.models.KeycloakSessionFactory;
import org.keycloak.provider.ProviderConfigProperty;

/**
 * Registers the {@code duo-step-up-authenticator} with Keycloak. The version check at start
 * is the required action's ({@link DuoStepUpRequiredActionFactory}): one jar, one check.
 */
public final class DuoStepUpAuthenticatorFactory implements AuthenticatorFactory {

    /** The provider id, also what a flow's execution names. */
    public static final String PROVIDER_ID = "duo-step-up-authenticator";

    private static final DuoStepUpAuthenticator SINGLETON = new DuoStepUpAuthenticator();
    private static final AuthenticationExecutionModel.Requirement[] REQUIREMENTS = {
        AuthenticationExecutionModel.Requirement.REQUIRED,
        AuthenticationExecutionModel.Requirement.DISABLED,
    };

    @Override
    public String getId() {
        return PROVIDER_ID;
    }

    @Override
    public String getDisplayType() {
        return "Duo two-factor (keycloak-duo-bridge)";
    }

    @Override
    public String getHelpText() {
        return "Duo's Universal Prompt through the keycloak-duo-bridge, as a step of this flow;"
                + " place it in the level-2 sub-flow of a level-of-authentication flow.";
    }

    @Override
    public String getReferenceCategory() {
        return null; // not a credential type of its own: Duo keeps the user's devices
    }

    @Override
    public boolean isConfigurable() {
        return false;
    }

    @Override
    public AuthenticationExecutionModel.Requirement[] getRequirementChoices() {
        return REQUIREMENTS.clone();
    }

    @Override
    public boolean isUserSetupAllowed() {
        return false;
    }

    @Override
    public List<ProviderConfigProperty> getConfigProperties() {
        return Collections.emptyList();
    }

    @Override
    public Authenticator create(KeycloakSession session) {
        return SINGLETON;
    }

    @Override
    public void init(Config.Scope config) {
        // Everything is per realm.
    }

    @Override
    public void postInit(KeycloakSessionFactory factory) {
        // The required action's factory checks the Keycloak version for the whole jar.
    }

    @Override
    public void close() {
        // Stateless.
    }
}
