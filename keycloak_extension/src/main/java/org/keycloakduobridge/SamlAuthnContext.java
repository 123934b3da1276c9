package org.keycloakduobridge;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.zip.DataFormatException;
import java.util.zip.Inflater;
import javax.xml.XMLConstants;
import javax.xml.parsers.DocumentBuilder;
import javax.xml.parsers.DocumentBuilderFactory;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

/**
 * Facts from the SAML response Keycloak's broker received, validated and stored on the
 * user's link to a SAML identity provider ("Store tokens" on): the {@code AuthnContextClassRef}
 * values of the first assertion's {@code AuthnStatement}s and the latest {@code AuthnInstant}.
 * Only Keycloak's broker writes that token (never a mapper, a client or the user). An
 * encrypted or unreadable assertion yields nothing. The bridge decides from these facts.
 */
final class SamlAuthnContext {

    static final String ASSERTION_NS = "urn:oasis:names:tc:SAML:2.0:assertion";
    private static final int MAX_TOKEN = 262144;
    private static final int MAX_VALUES = 16;

    final List<String> classRefs;
    final long authnInstant;

    private SamlAuthnContext(List<String> classRefs, long authnInstant) {
        this.classRefs = classRefs;
        this.authnInstant = authnInstant;
    }

    /** The facts of a stored SAMLResponse (POST: base64; redirect: base64 of deflate), or null. */
    static SamlAuthnContext of(String stored) {
        if (stored == null || stored.isEmpty() || stored.length() > MAX_TOKEN) {
            return null;
        }
        try {
            Document document = parse(xml(stored.trim()));
            NodeList assertions = document.getElementsByTagNameNS(ASSERTION_NS, "Assertion");
            if (assertions.getLength() == 0) {
                return null;
            }
            Element assertion = (Element) assertions.item(0);
            NodeList statements = assertion.getElementsByTagNameNS(ASSERTION_NS, "AuthnStatement");
            List<String> refs = new ArrayList<>();
            long instant = 0L;
            for (int i = 0; i < statements.getLength(); i++) {
                Element statement = (Element) statements.item(i);
                instant = Math.max(instant, seconds(statement.getAttribute("AuthnInstant")));
                NodeList found = statement.getElementsByTagNameNS(ASSERTION_NS, "AuthnContextClassRef");
                for (int j = 0; j < found.getLength() && refs.size() < MAX_VALUES; j++) {
                    String value = found.item(j).getTextContent().trim();
                    if (!value.isEmpty() && !refs.contains(value)) {
                        refs.add(value);
                    }
                }
            }
            return refs.isEmpty() ? null : new SamlAuthnContext(refs, instant);
        } catch (Exception e) { // any unreadable response is no fact at all
            return null;
        }
    }

    private static byte[] xml(String stored) throws DataFormatException {
        byte[] decoded = Base64.getMimeDecoder().decode(stored.getBytes(StandardCharsets.US_ASCII));
        if (decoded.length > 0 && decoded[0] == '<') {
            return decoded;
        }
        Inflater inflater = new Inflater(true);
        inflater.setInput(decoded);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        byte[] buffer = new byte[4096];
        while (!inflater.finished() && out.size() <= MAX_TOKEN * 4) {
            int read = inflater.inflate(buffer);
            if (read == 0 && (inflater.needsInput() || inflater.needsDictionary())) {
                break;
            }
            out.write(buffer, 0, read);
        }
        inflater.end();
        return out.toByteArray();
    }

    private static Document parse(byte[] xml) throws Exception {
        DocumentBuilderFactory factory = DocumentBuilderFactory.newInstance();
        factory.setNamespaceAware(true);
        factory.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
        factory.setFeature(XMLConstants.FEATURE_SECURE_PROCESSING, true);
        factory.setXIncludeAware(false);
        factory.setExpandEntityReferences(false);
        DocumentBuilder builder = factory.newDocumentBuilder();
        return builder.parse(new ByteArrayInputStream(xml));
    }

    private static long seconds(String instant) {
        try {
            return instant == null || instant.isEmpty() ? 0L : Instant.parse(instant).getEpochSecond();
        } catch (DateTimeParseException e) {
            return 0L;
        }
    }
}
