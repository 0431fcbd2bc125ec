-- The replicator's own database user: read/write on the shop, plus binlog access for change capture.
CREATE USER IF NOT EXISTS 'replicator'@'%' IDENTIFIED BY 'replicator';
GRANT SELECT, INSERT, UPDATE, DELETE, CREATE ON prestashop.* TO 'replicator'@'%';
GRANT REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO 'replicator'@'%';
