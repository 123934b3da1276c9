package org.keycloakduobridge;

import org.jboss.logging.Logger;
import org.keycloak.common.VerificationException;
import org.keycloak.models.AuthenticatedClientSessionModel;
import org.keycloak.models.ClientSessionContext;
import org.keycloak.models.KeycloakSession;
import org.keycloak.models.ProtocolMapperModel;
import org.keycloak.models.RealmModel;
import org.keycloak.models.UserSessionModel;
import org.keycloak.representations.IDToken;

/**
 * Lands a CIBA login's Duo outcome in the user-session notes a browser step-up writes, so the
 * {@code duo} claim, {@code amr} and {@code acr} come out the same.
 *
 * <p>Keycloak's CIBA grant builds the user session itself, with no authenticator or required
 * action, and its only hand-over from the authentication channel is the callback's extra
 * members, which it copies into client-session notes named
 * {@code ciba_callback_response_param_<name>}. The bridge sends its signed verdict there
 * ({@code kdb_verdict}). This mapper runs before every other mapper of the {@code kdb-duo}
 * scope, and, for a user session that holds no Duo outcome yet, writes one only from a verdict
 * that verifies: ES256 by a bridge key published on the realm, typed as a CIBA verdict,
 * addressed to the realm, this user and this client, unexpired, with the result "allow".
 * Nothing a client or user sends reaches that note (Keycloak fills it from the callback
 * alone, which needs the channel's own bearer token); anything else writes nothing, so the
 * token carries no Duo claim and no Duo level.
 */
public final class DuoCibaOutcomeMapper extends TokenMapper {

    public static final String PROVIDER_ID = "kdb-ciba-outcome-mapper";
    /** Keycloak's prefix for the callback's extra members (CibaGrantType), and ours. */
    static final String VERDICT_NOTE = "ciba_callback_response_param_kdb_verdict";
    /** Before the session-note mappers and Keycloak's amr mapper (priority 0). */
    private static final int PRIORITY = -100;
    private static final Logger LOG = Logger.getLogger(DuoCibaOutcomeMapper.class);

    @Override
    public String getId() {
        return PROVIDER_ID;
    }

    @Override
    public String getDisplayType() {
        return "Duo outcome of a CIBA login (keycloak-duo-bridge)";
    }

    @Override
    public String getHelpText() {
        return "Writes the Duo outcome the bridge signed for a CIBA login into the session.";
    }

    @Override
    public int getPriority() {
        return PRIORITY;
    }

    @Override
    protected void setClaim(IDToken token, ProtocolMapperModel mapping, UserSessionModel userSession,
            KeycloakSession session, ClientSessionContext clientSessionCtx) {
        AuthenticatedClientSessionModel clientSession =
                clientSessionCtx == null ? null : clientSessionCtx.getClientSession();
        if (clientSession == null || userSession.getNote(Attributes.NOTE_RESULT) != null) {
            return;
        }
        String signed = clientSession.getNote(VERDICT_NOTE);
        if (signed == null) {
            return;
        }
        RealmModel realm = userSession.getRealm();
        String issuer = session.getContext().getUri().getBaseUriBuilder()
                .path("realms").path("{realm}").build(realm.getName()).toString();
        String clientId = clientSession.getClient().getClientId();
        Verdict verdict;
        try {
            verdict = Verdict.verifyCiba(signed, RealmSettings.of(session, realm).bridgeJwks,
                    issuer, userSession.getUser().getId(), clientId, StepUp.now());
        } catch (VerificationException e) {
            LOG.warnf("duo ciba verdict refused: realm=%s client=%s reason=%s",
                    realm.getName(), clientId, e.getMessage());
            return;
        }
        if (!VerdictNames.RESULT_ALLOW.equals(verdict.result)) {
            return;
        }
        for (String[] note : StepUp.notes(verdict)) {
            if (!note[1].isEmpty()) {
                userSession.setNote(note[0], note[1]);
            }
        }
        userSession.setNote(Attributes.NOTE_AMR, String.join(" ", verdict.amr));
        LOG.infof("duo ciba outcome: realm=%s client=%s user=%s duo_result=%s duo_reason=%s"
                + " duo_factor=%s duo_txid=%s", realm.getName(), clientId,
                userSession.getUser().getId(), verdict.result, verdict.reason, verdict.factor,
                verdict.txid);
    }
}
