package loadtest

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/tsunagu-dev/tsunagu/shared/signature"
)

// lineUsers is how many synthetic LINE users a run's events come from.
// None of them is linked to a customer, so follow and unfollow take the
// path of a user the shop does not know yet.
const lineUsers = 499

// lineEventTypes are the events a run's LINE requests carry, in turn: one
// event per request, as LINE mostly delivers them.
var lineEventTypes = []string{"follow", "message", "unfollow"}

// lineRequest is request i as a LINE platform webhook: one follow, text
// message or unfollow event of a synthetic user, with its own
// webhookEventId, signed with the channel secret as LINE signs
// (X-Line-Signature: base64 HMAC-SHA256 of the raw body).
func (g *generator) lineRequest(ctx context.Context, baseURL string, i int, now time.Time) (*http.Request, error) {
	k := i / len(g.routes)
	typ := lineEventTypes[k%len(lineEventTypes)]
	ev := map[string]any{
		"type": typ, "mode": "active", "timestamp": now.UnixMilli(),
		"source":         map[string]any{"type": "user", "userId": g.lineUser(k % lineUsers)},
		"webhookEventId": g.lineEventID(i, now), "deliveryContext": map[string]any{"isRedelivery": false},
	}
	switch typ {
	case "follow":
		ev["replyToken"] = g.token("reply", i)
		ev["follow"] = map[string]any{"isUnblocked": k%2 == 1}
	case "message":
		ev["replyToken"] = g.token("reply", i)
		ev["message"] = map[string]any{"type": "text", "id": strconv.FormatInt(g.number()+int64(i), 10), "quoteToken": g.token("quote", i), "text": "在庫はありますか？"}
	}
	body, err := json.Marshal(map[string]any{"destination": g.lineUser(-1), "events": []any{ev}})
	if err != nil {
		return nil, fmt.Errorf("load test: encode LINE webhook: %w", err)
	}
	return newRequest(ctx, baseURL+"/line/webhook", body, map[string]string{
		"X-Line-Signature": base64.StdEncoding.EncodeToString(signature.Sum(g.lineSecret, body)), "User-Agent": "LineBotWebhook/2.0",
	})
}

// lineUser is synthetic LINE user u of the run ("U" and 32 hex digits, as
// LINE's user ids are); user -1 is the bot, the webhook's destination.
func (g *generator) lineUser(u int) string {
	sum := sha256.Sum256(fmt.Appendf(nil, "tsunagu-load:%s:user:%d", g.run, u))
	return "U" + hex.EncodeToString(sum[:16])
}

// token is a reply or quote token for request i (32 hex digits).
func (g *generator) token(kind string, i int) string {
	sum := sha256.Sum256(fmt.Appendf(nil, "tsunagu-load:%s:%s:%d", g.run, kind, i))
	return hex.EncodeToString(sum[:16])
}

// crockford is the base32 alphabet of ULIDs.
const crockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// lineEventID is request i's webhookEventId, a ULID as LINE's are: 48 bits
// of milliseconds, then 80 bits derived from the run and i, so every event
// of every run has its own.
func (g *generator) lineEventID(i int, now time.Time) string {
	sum := sha256.Sum256(fmt.Appendf(nil, "tsunagu-load:%s:event:%d", g.run, i))
	var raw [16]byte
	ms := uint64(now.UnixMilli())
	binary.BigEndian.PutUint16(raw[0:2], uint16(ms>>32))
	binary.BigEndian.PutUint32(raw[2:6], uint32(ms))
	copy(raw[6:], sum[:10])
	// 128 bits as 26 base32 digits, the first carrying 3 bits.
	hi, lo := binary.BigEndian.Uint64(raw[:8]), binary.BigEndian.Uint64(raw[8:])
	var out [26]byte
	for n := 25; n >= 0; n-- {
		out[n] = crockford[lo&31]
		lo = lo>>5 | hi<<59
		hi >>= 5
	}
	return string(out[:])
}
