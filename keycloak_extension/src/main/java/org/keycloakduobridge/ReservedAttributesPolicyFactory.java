package org.keycloakduobridge;

import java.util.Collections;
import java.util.List;
import java.util.Map;
import org.keycloak.component.ComponentModel;
import org.keycloak.models.ClientModel;
import org.keycloak.models.KeycloakSession;
import org.keycloak.provider.ProviderConfigProperty;
import org.keycloak.services.clientregistration.ClientRegistrationContext;
import org.keycloak.services.clientregistration.ClientRegistrationProvider;
import org.keycloak.services.clientregistration.policy.AbstractClientRegistrationPolicyFactory;
import org.keycloak.services.clientregistration.policy.ClientRegistrationPolicy;
import org.keycloak.services.clientregistration.policy.ClientRegistrationPolicyException;

/**
 * A client registration policy, {@code kdb-reserved-attributes}: a client registered or
 * updated through Keycloak's client registration endpoint (with an initial access token or a
 * client's own registration token) may carry no {@code kdb.*} attribute.
 *
 * <p>Nothing the extension or the bridge reads lives on a client any more (application modes
 * are a realm attribute), so this is defence in depth: the names stay the admin service's.
 * The realm templates add it for anonymous and authenticated registration.
 */
public final class ReservedAttributesPolicyFactory extends AbstractClientRegistrationPolicyFactory {

    public static final String PROVIDER_ID = "kdb-reserved-attributes";

    @Override
    public ClientRegistrationPolicy create(KeycloakSession session, ComponentModel model) {
        return new Policy();
    }

    @Override
    public String getId() {
        return PROVIDER_ID;
    }

    @Override
    public String getHelpText() {
        return "Refuses clients that carry kdb.* attributes (keycloak-duo-bridge reserves them).";
    }

    @Override
    public List<ProviderConfigProperty> getConfigProperties() {
        return Collections.emptyList();
    }

    @Override
    public List<ProviderConfigProperty> getConfigProperties(KeycloakSession session) {
        return Collections.emptyList();
    }

    private static final class Policy implements ClientRegistrationPolicy {

        private static void check(ClientRegistrationContext context) {
            Map<String, String> attributes = context.getClient().getAttributes();
            if (attributes == null) {
                return;
            }
            for (String name : attributes.keySet()) {
                if (name != null && name.startsWith(Attributes.PREFIX)) {
                    throw new ClientRegistrationPolicyException(
                            "Client attributes starting with " + Attributes.PREFIX + " are reserved");
                }
            }
        }

        @Override
        public void beforeRegister(ClientRegistrationContext context) {
            check(context);
        }

        @Override
        public void afterRegister(ClientRegistrationContext context, ClientModel client) {
            // Nothing after.
        }

        @Override
        public void beforeUpdate(ClientRegistrationContext context, ClientModel client) {
            check(context);
        }

        @Override
        public void afterUpdate(ClientRegistrationContext context, ClientModel client) {
            // Nothing after.
        }

        @Override
        public void beforeView(ClientRegistrationProvider provider, ClientModel client) {
            // Viewing is not restricted.
        }

        @Override
        public void beforeDelete(ClientRegistrationProvider provider, ClientModel client) {
            // Deleting is not restricted.
        }
    }
}
