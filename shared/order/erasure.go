package order

import _ "embed"

// ErasureSchema is the JSON Schema of the generic customer erasure webhook
// body (POST /webhooks/customers/erase).
//
//go:embed erasure.schema.json
var ErasureSchema []byte

var erasureSchema = mustCompileSchema(ErasureSchema)

// DecodeErasure parses and validates a generic erasure webhook body and
// returns the customer to erase. A bad body returns an *InvalidError naming
// every bad field.
func DecodeErasure(body []byte) (customerID string, err error) {
	doc, err := ParseJSONObject(body)
	if err != nil {
		return "", err
	}
	if err := erasureSchema.Validate(doc); err != nil {
		return "", schemaFieldErrors(err)
	}
	// Read from what the schema checked: encoding/json would also take a
	// "Customer_ID" the schema ignores.
	id, _ := doc["customer_id"].(string)
	return id, nil
}
