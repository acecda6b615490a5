# A minimal real Rails app for the listener's integration test: Rails' own ActionCable server at
# /cable (async adapter: no Redis), users identified by `?token=`, a NotificationsChannel that
# streams per user, and POST /test/broadcast {"user_id": 1, "payload": {...}} to notify a user.
require "json"
require "logger"
require "rails"
require "action_controller/railtie"
require "action_cable/engine"

# No database: a user is an id, and `stream_for` names its stream by `to_param`.
User = Struct.new(:id) do
  def to_param
    id.to_s
  end
end

USERS = { "token-user-1" => User.new(1), "token-user-2" => User.new(2) }.freeze

module ApplicationCable
  class Connection < ActionCable::Connection::Base
    identified_by :current_user

    def connect
      self.current_user = USERS[request.params[:token]] || reject_unauthorized_connection
    end
  end

  class Channel < ActionCable::Channel::Base
  end
end

class NotificationsChannel < ApplicationCable::Channel
  def subscribed
    stream_for current_user
  end
end

class CableTestApp < Rails::Application
  config.root = __dir__
  config.eager_load = false
  config.secret_key_base = "buddy4all-conformance-rails-cable-test-" * 2
  config.logger = Logger.new($stderr, level: ENV.fetch("B4A_RAILS_LOG_LEVEL", "warn"))
  config.log_level = ENV.fetch("B4A_RAILS_LOG_LEVEL", "warn")
  config.hosts.clear
  config.action_cable.cable = { "adapter" => "async" }
  # Origins: Rails' default same-origin check stays on; the listener sends Origin http://<host>.
end

CableTestApp.initialize!

BROADCAST = lambda do |env|
  body = JSON.parse(Rack::Request.new(env).body.read)
  user = USERS.values.find { |u| u.id == body["user_id"] }
  next [404, { "Content-Type" => "application/json" }, [{ error: "no user #{body['user_id']}" }.to_json]] unless user

  NotificationsChannel.broadcast_to(user, body.fetch("payload"))
  [202, { "Content-Type" => "application/json" }, [{ broadcast: NotificationsChannel.broadcasting_for(user) }.to_json]]
rescue JSON::ParserError, KeyError => e
  [400, { "Content-Type" => "application/json" }, [{ error: e.message }.to_json]]
end

CableTestApp.routes.draw do
  post "/test/broadcast", to: BROADCAST
  get "/up", to: ->(_env) { [200, { "Content-Type" => "text/plain" }, ["ok"]] }
end

run CableTestApp
