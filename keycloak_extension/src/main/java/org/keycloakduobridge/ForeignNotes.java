package org.keycloakduobridge;

import java.util.LinkedHashMap;
import java.util.Map;
import org.keycloak.sessions.AuthenticationSessionModel;

/**
 * Drops {@code kdb.duo.*} user-session notes that this login carries but the step-up did not
 * write: an identity-provider mapper (e.g. "Hardcoded User Session Attribute") can put any
 * note on a brokered login, and Keycloak copies them into the user session, where the
 * remembered pass, the {@code duo} claim and {@code acr}/{@code amr} would read them.
 *
 * <p>Called at the start of every login's trigger evaluation, before Keycloak attaches the
 * login to its user session; a login whose step-up passed ({@code kdb.duo.done}) keeps its
 * own notes.
 */
final class ForeignNotes {

    private static final String OWN = "kdb.duo.";

    private ForeignNotes() {
    }

    static void drop(AuthenticationSessionModel authSession) {
        Map<String, String> notes = authSession.getUserSessionNotes();
        if (notes == null || notes.keySet().stream().noneMatch(name -> name.startsWith(OWN))) {
            return;
        }
        Map<String, String> kept = new LinkedHashMap<>();
        notes.forEach((name, value) -> {
            if (!name.startsWith(OWN)) {
                kept.put(name, value);
            }
        });
        authSession.clearUserSessionNotes();
        kept.forEach(authSession::setUserSessionNote);
    }
}
