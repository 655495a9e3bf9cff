package dev.cordon.channel.whatsapp;

import dev.cordon.core.channel.HttpDelivery;
import java.net.URI;

/**
 * Which WhatsApp Business number the adapter runs as, on Meta's Cloud API.
 *
 * @param apiUrl the Graph API with its version ({@code https://graph.facebook.com/v21.0}); plain
 *     http only on loopback
 * @param phoneNumberId the business phone number's id (not the number itself): replies are sent as
 *     it, and webhook messages to other numbers of the same app are ignored
 * @param accessToken a system user's access token with {@code whatsapp_business_messaging}, from
 *     the vault; null only while the configuration is read
 * @param appSecret the Meta app's secret, the HMAC key of {@code X-Hub-Signature-256}, from the
 *     vault; null only while the configuration is read
 * @param verifyToken the string Meta echoes in the subscription handshake, from the vault; null
 *     only while the configuration is read
 */
public record WhatsAppSettings(
        URI apiUrl, String phoneNumberId, String accessToken, byte[] appSecret, String verifyToken) {
    public static final URI DEFAULT_API = URI.create("https://graph.facebook.com/v21.0");

    /** @throws IllegalArgumentException naming the field that is wrong */
    public WhatsAppSettings {
        apiUrl = HttpDelivery.baseUrl("api_url", apiUrl);
        if (!phoneNumberId.matches("[0-9]{5,20}")) {
            throw new IllegalArgumentException("phone_number_id: '" + phoneNumberId
                    + "' is not a phone number id (digits, from WhatsApp Manager > API Setup)");
        }
        if (appSecret != null && appSecret.length < 16) {
            throw new IllegalArgumentException("the app secret is shorter than 16 bytes: it is not a Meta app secret");
        }
        if (verifyToken != null && verifyToken.length() < 16) {
            throw new IllegalArgumentException(
                    "the verify token is shorter than 16 characters: use e.g. openssl rand -hex 16");
        }
    }

    /** Without the secrets: settings end up in logs. */
    @Override
    public String toString() {
        return "WhatsAppSettings[" + apiUrl + ", number " + phoneNumberId + (accessToken == null ? "" : ", token set")
                + "]";
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof WhatsAppSettings s
                && s.apiUrl.equals(apiUrl)
                && s.phoneNumberId.equals(phoneNumberId)
                && java.util.Objects.equals(s.accessToken, accessToken)
                && java.util.Arrays.equals(s.appSecret, appSecret)
                && java.util.Objects.equals(s.verifyToken, verifyToken);
    }

    @Override
    public int hashCode() {
        return phoneNumberId.hashCode();
    }
}
