package org.keycloakduobridge;

import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;

/**
 * What the jar was built for: written by {@code extension.py} at build time, next to this
 * class ({@code build.properties}) and, with the same values, in the jar's manifest.
 *
 * <p>The supported range is by minor version, inclusive at both ends: {@code 26.4} to
 * {@code 26.7} admits 26.4.0 up to any 26.7.x.
 */
final class BuildInfo {

    final String version;
    final String builtAgainst;
    final String supportedMin;
    final String supportedMax;

    private BuildInfo(Properties properties) {
        this.version = properties.getProperty("version", "unknown");
        this.builtAgainst = properties.getProperty("keycloak-built-against", "unknown");
        this.supportedMin = properties.getProperty("keycloak-supported-min", "");
        this.supportedMax = properties.getProperty("keycloak-supported-max", "");
    }

    static BuildInfo load() {
        Properties properties = new Properties();
        try (InputStream in = BuildInfo.class.getResourceAsStream("build.properties")) {
            if (in != null) {
                properties.load(in);
            }
        } catch (IOException e) {
            // An unreadable record reads as no range, and no range supports nothing.
        }
        return new BuildInfo(properties);
    }

    /** The range as operators read it, e.g. {@code 26.4 to 26.7}. */
    String range() {
        return supportedMin + " to " + supportedMax;
    }

    /** Whether {@code keycloakVersion} (e.g. {@code 26.5.6}) lies in the supported range. */
    boolean supports(String keycloakVersion) {
        int[] server = minor(keycloakVersion);
        int[] low = minor(supportedMin);
        int[] high = minor(supportedMax);
        if (server == null || low == null || high == null) {
            return false;
        }
        return compare(server, low) >= 0 && compare(server, high) <= 0;
    }

    /** Major and minor of {@code 26.5.6} or {@code 26.5}; null when not of that form. */
    static int[] minor(String version) {
        if (version == null) {
            return null;
        }
        String[] parts = version.split("\\.");
        if (parts.length < 2) {
            return null;
        }
        try {
            return new int[] {Integer.parseInt(parts[0]), Integer.parseInt(parts[1])};
        } catch (NumberFormatException e) {
            return null;
        }
    }

    private static int compare(int[] a, int[] b) {
        return a[0] != b[0] ? Integer.compare(a[0], b[0]) : Integer.compare(a[1], b[1]);
    }
}
