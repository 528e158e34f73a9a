// Package email sends email through Amazon SES v2. It is the email transport
// of the campaign runner: messages arrive rendered, it adds the envelope.
package email

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/mail"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sesv2/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// ErrRejected wraps a send that SES refused for good (bad address, unverified
// sender, suppressed recipient): retrying cannot help.
var ErrRejected = errors.New("email rejected")

// Message is one rendered email to one recipient (campaign messages) or,
// with Cc, to a few (the shop's own staff: the report and its alerts).
type Message struct {
	To       string
	Cc       []string
	Subject  string
	HTML     string
	Text     string
	Headers  []Header
	Campaign string // reported to SES as a message tag
	// Key is the message's key, reported to SES as a tag so bounce and
	// complaint events find the message log entry.
	Key string
	// Attachments go with the message as files (SES v2 builds the MIME).
	Attachments []Attachment
}

// Attachment is one file attached to a message.
type Attachment struct {
	Name        string // file name shown to the reader
	ContentType string // e.g. text/html; charset=UTF-8
	Content     []byte
}

// Header is one extra header line, such as List-Unsubscribe.
type Header struct{ Name, Value string }

// Sender sends Messages from one From address.
type Sender struct {
	client    *sesv2.Client
	from      string
	replyTo   string
	configSet string
}

// NewSender returns a Sender whose From line shows fromName <fromAddress>
// (encoded as RFC 2047 when the name is not ASCII). configSet may be empty.
func NewSender(client *sesv2.Client, fromName, fromAddress, replyTo, configSet string) (*Sender, error) {
	if _, err := mail.ParseAddress(fromAddress); err != nil {
		return nil, fmt.Errorf("new email sender: from address %q: %w", fromAddress, err)
	}
	from := (&mail.Address{Name: fromName, Address: fromAddress}).String()
	return &Sender{client: client, from: from, replyTo: replyTo, configSet: configSet}, nil
}

// Send sends m and returns SES's message id. A refusal that retrying cannot
// fix wraps ErrRejected; anything else (throttling, outage) is retryable.
func (s *Sender) Send(ctx context.Context, m Message) (string, error) {
	headers := make([]types.MessageHeader, len(m.Headers))
	for i, h := range m.Headers {
		headers[i] = types.MessageHeader{Name: aws.String(h.Name), Value: aws.String(h.Value)}
	}
	var files []types.Attachment
	for _, a := range m.Attachments {
		files = append(files, types.Attachment{FileName: aws.String(a.Name), ContentType: aws.String(a.ContentType), RawContent: a.Content,
			ContentDisposition: types.AttachmentContentDispositionAttachment})
	}
	in := &sesv2.SendEmailInput{
		FromEmailAddress: aws.String(s.from),
		Destination:      &types.Destination{ToAddresses: []string{m.To}, CcAddresses: m.Cc},
		Content: &types.EmailContent{Simple: &types.Message{
			Subject: &types.Content{Data: aws.String(m.Subject), Charset: aws.String("UTF-8")},
			Body: &types.Body{
				Html: &types.Content{Data: aws.String(m.HTML), Charset: aws.String("UTF-8")},
				Text: &types.Content{Data: aws.String(m.Text), Charset: aws.String("UTF-8")},
			},
			Headers:     headers,
			Attachments: files,
		}},
	}
	if s.replyTo != "" {
		in.ReplyToAddresses = []string{s.replyTo}
	}
	if s.configSet != "" {
		in.ConfigurationSetName = aws.String(s.configSet)
	}
	if m.Campaign != "" {
		in.EmailTags = append(in.EmailTags, types.MessageTag{Name: aws.String("campaign"), Value: aws.String(m.Campaign)})
	}
	if m.Key != "" {
		in.EmailTags = append(in.EmailTags, types.MessageTag{Name: aws.String("message_key"), Value: aws.String(m.Key)})
	}
	out, err := s.client.SendEmail(ctx, in)
	if err != nil {
		if permanent(err) {
			return "", fmt.Errorf("send email: %w: %w", ErrRejected, err)
		}
		return "", fmt.Errorf("send email: %w", err)
	}
	return aws.ToString(out.MessageId), nil
}

// permanent reports SES refusals that no retry can fix: the known codes,
// and any other client error (4xx) except throttling.
func permanent(err error) bool {
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		switch apiErr.ErrorCode() {
		case "TooManyRequestsException", "LimitExceededException", "Throttling", "ThrottlingException":
			return false
		case "MessageRejected", "MailFromDomainNotVerifiedException", "BadRequestException", "NotFoundException", "AccountSuspendedException":
			return true
		}
	}
	var respErr *smithyhttp.ResponseError
	if errors.As(err, &respErr) {
		code := respErr.HTTPStatusCode()
		return code >= 400 && code < 500 && code != http.StatusTooManyRequests
	}
	return false
}
