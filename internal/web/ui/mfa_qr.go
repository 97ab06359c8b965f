package ui

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"image/png"

	"github.com/pquerna/otp"
)

// qrSize is the side of the enrolment QR code, in pixels.
const qrSize = 220

// qrDataURL renders the QR code of an otpauth:// URL here, as a PNG data:
// URL (the CSP allows data: images): the secret never goes to an outside
// QR service.
func qrDataURL(otpURL string) (string, error) {
	key, err := otp.NewKeyFromURL(otpURL)
	if err != nil {
		return "", fmt.Errorf("qr code: %w", err)
	}
	img, err := key.Image(qrSize, qrSize)
	if err != nil {
		return "", fmt.Errorf("qr code: %w", err)
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		return "", fmt.Errorf("qr code: %w", err)
	}
	return "data:image/png;base64," + base64.StdEncoding.EncodeToString(b.Bytes()), nil
}
