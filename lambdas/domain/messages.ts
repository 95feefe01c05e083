/**
 * Every message Backorder Watch sends, as pure functions of the backorder record: customer
 * emails, emails to owners and managers, and text messages. No I/O and no AWS: callers build
 * the links, pick the recipients and send what these return.
 *
 * Emails are `{ subject, text, html }` (an SES simple message); texts are one string, kept to
 * one GSM-7 SMS segment (160 characters) whenever the content allows.
 */
export {
  type CompanyProfile,
  type CustomerNoticeInput,
  customerNotice,
  customerNoticeSubject,
  type DecisionLinks,
  describeAlternative,
  MissingDecisionLinkError,
  type NoticeView,
  readerTimeZone,
  shippedConfirmation,
} from '#domain/messages/customer.ts';
export { escapeHtml, type RenderedEmail, UnsafeLinkError } from '#domain/messages/document.ts';
export {
  formatInstant,
  formatMoney,
  formatPhone,
  formatPriceDelta,
  formatQuantity,
  formatShipDate,
} from '#domain/messages/format.ts';
export {
  managerAutoSentNotice,
  type NoticeWithDeadline,
  ownerDecisionEmail,
  ownerDeliveryFailure,
  ownerReviewRequest,
  ownerReviewWarning,
  textsByEmail,
} from '#domain/messages/staff.ts';
export {
  managerSlipText,
  ownerReminderText,
  SMS_LIMIT,
  smsSafe,
  type TextOptions,
  textSummary,
  vpText,
} from '#domain/messages/texts.ts';
