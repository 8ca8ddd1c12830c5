// The wire types of the chat server (see docs/protocol.md).

export type SessionStatus = 'pending' | 'open' | 'closed';
export type SenderType = 'customer' | 'agent' | 'bot' | 'system';

export interface Agent {
  id: string;
  name: string;
  email: string;
  role: 'admin' | 'agent';
  created_at: string;
  online?: boolean;
}

export interface Session {
  id: string;
  status: SessionStatus;
  customer: { id: string; name: string | null; email: string | null; attributes: Record<string, unknown> };
  assigned_agent: { id: string; name: string } | null;
  context: { page_url: string | null; referrer: string | null; user_agent: string | null; locale: string | null };
  created_at: string;
  last_activity_at: string;
  last_seq: number;
  last_message_preview: string | null;
}

export interface Message {
  id: string;
  session_id: string;
  seq: number;
  sender_type: SenderType;
  sender_id: string | null;
  sender_name: string;
  body: string;
  created_at: string;
  client_msg_id: string | null;
}

export type ServerEvent =
  | { type: 'chat.session.started'; payload: Session }
  | { type: 'chat.message.new'; payload: Message }
  | { type: 'chat.session.assigned'; payload: { session_id: string; agent_id: string; agent_name: string; previous_agent_id: string | null; session: Session } }
  | { type: 'chat.agent.joined'; payload: { session_id: string; agent_id: string; agent_name: string } }
  | { type: 'chat.session.closed'; payload: { session_id: string; status: SessionStatus; session: Session } }
  | { type: 'chat.session.reopened'; payload: { session_id: string; status: SessionStatus; session: Session } }
  | { type: 'chat.typing'; payload: { session_id: string; sender_type: SenderType; name: string; is_typing: boolean } }
  | { type: 'agent.presence'; payload: { agent_id: string; name: string; online: boolean } }
  | { type: 'chat.message.ack'; payload: { client_msg_id: string; message: Message } }
  | { type: 'chat.resume.done'; payload: { session_id: string; last_seq: number } }
  | { type: 'pong'; payload: Record<string, never> }
  | { type: 'error'; payload: { code: string; message: string; client_msg_id?: string } };
